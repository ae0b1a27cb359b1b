/**
 * The client's opening handshake machine (RFC 6455 section 4.1) without a network: bytes in,
 * events out, against the server machine and against hand-written answers split every way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionError, HandshakeError } from '../../../src/errors.js';
import { nodePlatform } from '../../../src/node/node-platform.js';
import {
  acceptDeflateResponse,
  buildDeflateOffer,
} from '../../../src/protocol/extensions/permessage-deflate.js';
import {
  ClientHandshake,
  type ClientHandshakeEvent,
  type ClientHandshakeOptions,
  computeAccept,
  MAX_REFUSAL_BODY_BYTES,
  ServerHandshake,
} from '../../../src/protocol/index.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = computeAccept(KEY, nodePlatform);
const bytes = (text: string) => Buffer.from(text, 'latin1');

function client(options: Partial<ClientHandshakeOptions> = {}): ClientHandshake {
  return new ClientHandshake({
    platform: nodePlatform,
    host: 'example.org',
    path: '/chat',
    key: KEY,
    ...options,
  });
}

/** Feeds `data` in the given pieces; returns the event and the index of the piece that gave it. */
function feed(
  machine: ClientHandshake,
  pieces: Uint8Array[],
): { event: ClientHandshakeEvent | null; at: number } {
  for (let i = 0; i < pieces.length; i++) {
    const event = machine.receiveData(pieces[i]!);
    if (event) return { event, at: i };
  }
  return { event: null, at: -1 };
}

/** Every way to cut `data` in two, and byte by byte. */
function splits(data: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let i = 1; i < data.length; i++) out.push([data.subarray(0, i), data.subarray(i)]);
  out.push(Array.from(data, (_, i) => data.subarray(i, i + 1)));
  return out;
}

function failed(event: ClientHandshakeEvent | null): Error {
  assert.ok(event && event.type === 'failed', `expected a failure, got ${JSON.stringify(event)}`);
  return event.error;
}

const SWITCH = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n`;

describe('ClientHandshake', () => {
  it('writes its request once, and opens with the server machine, however the bytes are cut', () => {
    for (const protocols of [[], ['a', 'b']]) {
      const c = client({ protocols });
      const request = bytes(c.dataToSend());
      assert.equal(c.dataToSend(), '', 'the request is handed out once');
      for (const pieces of splits(request)) {
        const s = new ServerHandshake({ platform: nodePlatform });
        let event = null;
        for (const piece of pieces) event ??= s.receiveData(piece);
        assert.ok(event && event.type === 'request');
        assert.deepEqual(event.protocols, protocols);
        assert.equal(event.target, '/chat');
        assert.equal(event.headers?.host, 'example.org');
      }
      const s = new ServerHandshake({ platform: nodePlatform });
      const event = s.receiveData(request);
      assert.ok(event?.type === 'request');
      const accepted = s.accept({ protocol: protocols[1] ?? false });
      assert.equal(accepted.protocol, protocols[1] ?? '');
      const frame = Buffer.from([0x81, 0x02, 0x68, 0x69]);
      const answer = Buffer.concat([bytes(s.dataToSend()), frame]);
      for (const pieces of splits(answer)) {
        const machine = client({ protocols });
        machine.dataToSend();
        const { event: opened, at } = feed(machine, pieces);
        assert.ok(opened && opened.type === 'open', JSON.stringify(opened));
        assert.equal(opened.protocol, protocols[1] ?? '');
        assert.equal(machine.state, 'done');
        // What followed the head in the piece that completed it is WebSocket data.
        const end = pieces.slice(0, at + 1).reduce((n, p) => n + p.length, 0);
        assert.deepEqual(
          Buffer.from(opened.rest),
          answer.subarray(answer.length - frame.length, end),
        );
      }
    }
  });

  it('negotiates permessage-deflate with the server machine', () => {
    let agreed: ReturnType<typeof acceptDeflateResponse> | null = null;
    const c = client({
      extensions: buildDeflateOffer({}),
      acceptExtensions: (header) => {
        agreed = acceptDeflateResponse(header, {});
        return header;
      },
    });
    const s = new ServerHandshake({
      platform: nodePlatform,
      perMessageDeflate: { serverNoContextTakeover: true },
    });
    assert.equal(s.receiveData(bytes(c.dataToSend()))?.type, 'request');
    const accepted = s.accept();
    assert.ok(accepted.deflate);
    const event = c.receiveData(bytes(s.dataToSend()));
    assert.ok(event?.type === 'open');
    assert.equal(event.extensions, accepted.extensions);
    assert.deepEqual(agreed, accepted.deflate);
  });

  it('skips interim 1xx answers before the 101 (RFC 9110 section 15.2)', () => {
    const answer = bytes(
      `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${SWITCH}\r\n`,
    );
    for (const pieces of splits(answer)) {
      const { event } = feed(client(), pieces);
      assert.ok(event && event.type === 'open', JSON.stringify(event));
      assert.equal(event.response.status, 101);
    }
  });

  it('fails a 101 with a wrong accept value', () => {
    const error = failed(client().receiveData(bytes(`${SWITCH.replace(ACCEPT, KEY)}\r\n`)));
    assert.ok(error instanceof HandshakeError);
    assert.match(error.message, /Sec-WebSocket-Accept/);
  });

  it('fails at the first bare LF or non-HTTP byte, without waiting for more', () => {
    const c = client();
    const text = bytes('HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n');
    const lf = text.indexOf(0x0a);
    for (let i = 0; i < lf; i++) assert.equal(c.receiveData(text.subarray(i, i + 1)), null);
    assert.match(failed(c.receiveData(text.subarray(lf, lf + 1))).message, /bare LF/);
    assert.equal(c.state, 'done');
    assert.throws(() => c.receiveData(bytes('x')), /over/);
    assert.match(failed(client().receiveData(bytes('SSH-'))).message, /did not answer with HTTP/);
  });

  it('reads a chunked refusal body, de-chunked, however it is cut', () => {
    const answer = bytes(
      'HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5\r\nhello\r\n1;name=value\r\n,\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n',
    );
    for (const pieces of splits(answer)) {
      const { event, at } = feed(client({ peer: 'example.org:80' }), pieces);
      assert.equal(at, pieces.length - 1, 'complete only with the last chunk');
      const error = failed(event);
      assert.ok(error instanceof HandshakeError);
      assert.equal(error.status, 403);
      assert.equal(error.body, 'hello, world');
      assert.equal(
        error.message,
        'example.org:80: the server refused the WebSocket upgrade with HTTP 403 Forbidden: hello, world',
      );
    }
  });

  it('reads a Content-Length body, and reports what came when the connection ends early', () => {
    const head = 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 11\r\n\r\n';
    const whole = client();
    assert.equal(whole.receiveData(bytes(`${head}log `)), null);
    assert.equal(whole.state, 'body');
    assert.equal(
      (failed(whole.receiveData(bytes('in first!'))) as HandshakeError).body,
      'log in firs',
    );
    const cut = client();
    assert.equal(cut.receiveData(bytes(`${head}log`)), null);
    const { error } = cut.receiveEof();
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.status, 401);
    assert.equal(error.body, 'log');
  });

  it('reads a body without framing until the close, and keeps only its start', () => {
    const c = client();
    assert.equal(c.receiveData(bytes('HTTP/1.0 500 Oops\r\n\r\nsomething ')), null);
    assert.equal(c.receiveData(bytes('broke')), null);
    assert.equal((c.receiveEof().error as HandshakeError).body, 'something broke');
    const big = client();
    const event = big.receiveData(
      bytes(
        `HTTP/1.1 400 Bad\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(MAX_REFUSAL_BODY_BYTES)}`,
      ),
    );
    assert.equal((failed(event) as HandshakeError).body?.length, MAX_REFUSAL_BODY_BYTES);
  });

  it('no body for 204 and 304 answers', () => {
    for (const status of [204, 304]) {
      const error = failed(
        client().receiveData(bytes(`HTTP/1.1 ${status} X\r\nContent-Length: 5\r\n\r\n`)),
      );
      assert.equal((error as HandshakeError).status, status);
    }
  });

  it('reports redirects only when asked to follow them', () => {
    const answer = bytes(
      'HTTP/1.1 302 Found\r\nLocation: ws://elsewhere/\r\nContent-Length: 5\r\n\r\nmoved',
    );
    const followed = client({ followRedirects: true }).receiveData(answer);
    assert.ok(followed?.type === 'redirect');
    assert.equal(followed.response.headers.location, 'ws://elsewhere/');
    const refused = failed(client().receiveData(answer)) as HandshakeError;
    assert.equal(refused.status, 302);
    assert.equal(refused.body, 'moved');
  });

  it('a connection that ends before the answer is a ConnectionError', () => {
    const c = client({ peer: 'example.org:80' });
    assert.equal(c.receiveData(bytes('HTTP/1.1 101 Swi')), null);
    const { error } = c.receiveEof();
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.code, 'ERR_WS_CONNECTION_CLOSED');
    assert.match(error.message, /^example\.org:80: /);
  });

  it('refuses invalid request headers when built', () => {
    assert.throws(() => client({ headers: { 'X-A': 'a\r\nb' } }), TypeError);
    assert.throws(() => client({ headers: { Upgrade: 'h2c' } }), TypeError);
  });
});
