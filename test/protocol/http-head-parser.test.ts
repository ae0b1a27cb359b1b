/** The client's HTTP response head parser and the header token helpers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandshakeError } from '../../src/errors.js';
import {
  formatExtensions,
  HttpHeadParser,
  type HttpResponseHead,
  isToken,
  isValidHeaderValue,
  listHasToken,
  parseExtensions,
  splitList,
} from '../../src/protocol/index.js';
import { countWork } from '../support/work-counter.js';

const RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
  'X-Multi: a\r\n' +
  'x-multi: b\r\n' +
  'X-Empty:\r\n' +
  'X-Spaces: \t padded value \t \r\n' +
  '\r\n';
const FRAMES = Buffer.from([0x81, 0x02, 0x68, 0x69, 0x89, 0x00]);

const EXPECTED_HEAD: HttpResponseHead = {
  httpVersion: 'HTTP/1.1',
  status: 101,
  statusText: 'Switching Protocols',
  headers: Object.assign(Object.create(null) as Record<string, string>, {
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-accept': 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    'x-multi': 'a, b',
    'x-empty': '',
    'x-spaces': 'padded value',
  }),
};

function parseAll(text: string | Buffer, limits?: ConstructorParameters<typeof HttpHeadParser>[0]) {
  return new HttpHeadParser(limits).push(
    typeof text === 'string' ? Buffer.from(text, 'latin1') : text,
  );
}

function throwsHandshake(fn: () => unknown): void {
  assert.throws(
    fn,
    (error: unknown) => error instanceof HandshakeError && error.code === 'ERR_WS_HANDSHAKE',
  );
}

describe('HttpHeadParser', () => {
  it('parses a response head and returns the bytes after it', () => {
    const result = parseAll(Buffer.concat([Buffer.from(RESPONSE), FRAMES]));
    assert.ok(result);
    assert.deepEqual(result.head, EXPECTED_HEAD);
    assert.deepEqual(Buffer.from(result.rest), FRAMES);
  });

  it('gives the same result for the response split at every byte boundary (and at two)', () => {
    const bytes = Buffer.concat([Buffer.from(RESPONSE), FRAMES]);
    const headEnd = RESPONSE.length;
    for (let i = 1; i < bytes.length; i++) {
      for (const j of [i, Math.min(bytes.length, i + 1), Math.min(bytes.length, i + 3)]) {
        const parser = new HttpHeadParser();
        const pieces = [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)];
        let result: ReturnType<HttpHeadParser['push']> = null;
        let doneAt = -1;
        pieces.forEach((piece, index) => {
          if (result === null && (piece.length > 0 || index === 0)) {
            result = parser.push(piece);
            if (result) doneAt = index;
          }
        });
        assert.ok(result, `split ${i}/${j}`);
        const { head, rest } = result as { head: HttpResponseHead; rest: Uint8Array };
        assert.deepEqual(head, EXPECTED_HEAD, `split ${i}/${j}`);
        // The head completes in the piece holding its last byte; rest is what follows in that piece.
        const pieceEnd = [i, j, bytes.length][doneAt]!;
        assert.ok(pieceEnd >= headEnd);
        assert.deepEqual(Buffer.from(rest), bytes.subarray(headEnd, pieceEnd), `split ${i}/${j}`);
      }
    }
  });

  it('returns null until the blank line arrives, byte by byte', () => {
    const parser = new HttpHeadParser();
    const bytes = Buffer.from(RESPONSE);
    for (let i = 0; i < bytes.length - 1; i++)
      assert.equal(parser.push(bytes.subarray(i, i + 1)), null);
    const result = parser.push(bytes.subarray(bytes.length - 1));
    assert.ok(result);
    assert.deepEqual(result.head, EXPECTED_HEAD);
    assert.equal(result.rest.length, 0);
  });

  it('parses a non-101 answer with no reason phrase', () => {
    const result = parseAll('HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n');
    assert.ok(result);
    assert.equal(result.head.status, 404);
    assert.equal(result.head.statusText, '');
    assert.equal(result.head.headers['content-length'], '0');
  });

  it('a head over maxHeaderBytes is a HandshakeError, also when it never ends', () => {
    const long = `HTTP/1.1 101 OK\r\nX-Long: ${'a'.repeat(200)}\r\n\r\n`;
    throwsHandshake(() => parseAll(long, { maxHeaderBytes: 100 }));
    assert.ok(parseAll(long, { maxHeaderBytes: long.length }));
    throwsHandshake(() => parseAll(long, { maxHeaderBytes: long.length - 1 }));
    const parser = new HttpHeadParser({ maxHeaderBytes: 1024 });
    const endless = Buffer.from(`X-Filler: ${'b'.repeat(90)}\r\n`);
    assert.equal(parser.push(Buffer.from('HTTP/1.1 101 OK\r\n')), null);
    throwsHandshake(() => {
      for (let i = 0; i < 20; i++) parser.push(endless);
    });
  });

  it('the default limit is 16 KiB', () => {
    throwsHandshake(() => parseAll(`HTTP/1.1 101 OK\r\nX: ${'a'.repeat(16 * 1024)}\r\n\r\n`));
    assert.ok(parseAll(`HTTP/1.1 101 OK\r\nX: ${'a'.repeat(16 * 1024 - 30)}\r\n\r\n`));
  });

  it('more headers than maxHeaders is a HandshakeError', () => {
    const head = (n: number) =>
      `HTTP/1.1 101 OK\r\n${Array.from({ length: n }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`;
    assert.ok(parseAll(head(5), { maxHeaders: 5 }));
    throwsHandshake(() => parseAll(head(6), { maxHeaders: 5 }));
    assert.ok(parseAll(head(100)));
    throwsHandshake(() => parseAll(head(101)));
  });

  it('bare LF, bare CR and NUL in the head are refused', () => {
    throwsHandshake(() => parseAll('HTTP/1.1 101 OK\nUpgrade: websocket\r\n\r\n'));
    throwsHandshake(() => parseAll('HTTP/1.1 101 OK\r\nUpgrade: web\rsocket\r\n\r\n'));
    throwsHandshake(() => parseAll('HTTP/1.1 101 OK\r\nUpgrade: web\0socket\r\n\r\n'));
    throwsHandshake(() => parseAll('HTTP/1.1 101 OK\r\nUpgrade: websocket\r\r\n\r\n'));
  });

  it('a response that is not HTTP is refused', () => {
    for (const statusLine of [
      '',
      'HTTP/1.1',
      'HTTP/1.1 10',
      'HTTP/1.1 1x1 OK',
      'HTTP/1.1 1011 OK',
      'SSH-2.0-OpenSSH',
      'ICY 200 OK',
    ]) {
      throwsHandshake(() => parseAll(`${statusLine}\r\nX: y\r\n\r\n`));
    }
  });

  it('malformed header lines are refused: no colon, space before colon, obsolete folding', () => {
    throwsHandshake(() => parseAll('HTTP/1.1 101 OK\r\nUpgrade websocket\r\n\r\n'));
    throwsHandshake(() => parseAll('HTTP/1.1 101 OK\r\nUpgrade : websocket\r\n\r\n'));
    throwsHandshake(() => parseAll('HTTP/1.1 101 OK\r\n: websocket\r\n\r\n'));
    throwsHandshake(() => parseAll('HTTP/1.1 101 OK\r\nX-A: a\r\n  folded\r\n\r\n'));
  });

  it('header names like __proto__ are plain data', () => {
    const result = parseAll('HTTP/1.1 101 OK\r\n__proto__: x\r\nconstructor: y\r\n\r\n');
    assert.ok(result);
    assert.deepEqual(Object.entries(result.head.headers), [
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
    assert.equal(({} as Record<string, unknown>).x, undefined, 'Object.prototype is untouched');
  });

  it('parses pathological whitespace in a header value with work linear in it', () => {
    const value = `${' '.repeat(10_000)}x${'\t '.repeat(2_000)}`;
    const bytes = Buffer.from(
      `HTTP/1.1 101 OK\r\nX-Evil:${value}\r\nX-Evil2:${' '.repeat(3000)}\r\n\r\n`,
    );
    const result = new HttpHeadParser({ maxHeaderBytes: 1 << 20 }).push(bytes);
    assert.ok(result);
    assert.equal(result.head.headers['x-evil'], 'x');
    assert.equal(result.head.headers['x-evil2'], '');
    // Counted, not timed: a quadratic trim would do about 100 times the work for 10 times the spaces.
    const evil = (spaces: number) => () => {
      const huge = Buffer.from(
        `HTTP/1.1 101 OK\r\nX-Evil:${' '.repeat(spaces)}x${' '.repeat(spaces)}\r\n\r\n`,
      );
      const hugeResult = new HttpHeadParser({ maxHeaderBytes: 1 << 20 }).push(huge);
      assert.equal(hugeResult?.head.headers['x-evil'], 'x');
    };
    const growth = countWork(evil(200_000)) / countWork(evil(20_000));
    assert.ok(growth < 15, `work grew ${growth.toFixed(1)}x for 10x the whitespace`);
  });

  it('a 16 KiB head fed byte by byte costs work linear in its size', () => {
    const feed = (size: number) => () => {
      const head = Buffer.from(`HTTP/1.1 101 OK\r\nX: ${'a'.repeat(size - 30)}\r\n\r\n`);
      const parser = new HttpHeadParser();
      let result: ReturnType<HttpHeadParser['push']> = null;
      for (let i = 0; i < head.length; i++) result = parser.push(head.subarray(i, i + 1));
      assert.ok(result);
    };
    const growth = countWork(feed(16 * 1024)) / countWork(feed(1640));
    assert.ok(growth < 15, `work grew ${growth.toFixed(1)}x for 10x the head`);
  });
});

describe('HTTP token helpers', () => {
  it('isToken follows RFC 9110 tchar', () => {
    for (const t of ['websocket', 'chat.v2', "a!#$%&'*+-.^_`|~z", 'X-1'])
      assert.equal(isToken(t), true, t);
    for (const t of ['', 'a b', 'a,b', 'a/b', '"q"', 'a:b', 'a\tb', 'é', 'a;b', 'a=b'])
      assert.equal(isToken(t), false, t);
  });

  it('isValidHeaderValue refuses CR, LF, NUL and characters above 0xFF', () => {
    assert.equal(isValidHeaderValue('any value, with\ttabs and ÿ'), true);
    for (const v of ['a\r', 'a\n', 'a\0', 'snow☃']) assert.equal(isValidHeaderValue(v), false);
  });

  it('splitList trims OWS and drops empty items; listHasToken is case-insensitive', () => {
    assert.deepEqual(splitList(' a ,b,, \tc\t,'), ['a', 'b', 'c']);
    assert.deepEqual(splitList(''), []);
    assert.equal(listHasToken('keep-alive, UPGRADE', 'upgrade'), true);
    assert.equal(listHasToken('keep-alive, upgrade-insecure', 'upgrade'), false);
    assert.equal(listHasToken(undefined, 'upgrade'), false);
  });

  it('parseExtensions reads names, parameters and quoted values, and refuses malformed ones', () => {
    assert.deepEqual(
      parseExtensions(
        'permessage-deflate; client_max_window_bits; server_max_window_bits="10", x-foo',
      ),
      [
        {
          name: 'permessage-deflate',
          params: [
            ['client_max_window_bits', true],
            ['server_max_window_bits', '10'],
          ],
        },
        { name: 'x-foo', params: [] },
      ],
    );
    for (const bad of [
      '',
      ';a',
      'a;',
      'a; b=',
      'a; b="unterminated',
      'a; b="two words"',
      'a b',
      'a;b=c d',
    ]) {
      assert.equal(parseExtensions(bad), null, JSON.stringify(bad));
    }
    // RFC 9110 section 5.6.1: empty list elements are skipped.
    assert.deepEqual(parseExtensions(', a,, b ,'), [
      { name: 'a', params: [] },
      { name: 'b', params: [] },
    ]);
    const offers = parseExtensions('a; x=1; y, b')!;
    assert.equal(formatExtensions(offers), 'a; x=1; y, b');
  });
});
