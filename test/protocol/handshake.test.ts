/** RFC 6455 section 4: the opening handshake. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HandshakeError } from '../../src/errors.js';
import { nodePlatform } from '../../src/node/node-platform.js';
import {
  buildAcceptResponse,
  buildClientRequest,
  buildRejectResponse,
  checkUpgradeRequest,
  computeAccept,
  type ExpectedResponse,
  generateKey,
  isValidKey,
  type Platform,
  portablePlatform,
  sha1Base64Portable,
  type UpgradeRequest,
  validateServerResponse,
  WEBSOCKET_GUID,
} from '../../src/protocol/index.js';
import { platforms } from './helpers.js';

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

describe('4.2.2 Sec-WebSocket-Accept', () => {
  for (const [name, platform] of platforms) {
    it(`computeAccept gives the RFC example answer (${name} sha1)`, () => {
      assert.equal(computeAccept(RFC_KEY, platform), RFC_ACCEPT);
    });
  }

  it('uses the RFC GUID', () => {
    assert.equal(WEBSOCKET_GUID, '258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
  });

  it('the portable SHA-1 matches node:crypto for inputs of every length around block edges', () => {
    for (let n = 0; n <= 200; n++) {
      const text = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(6).slice(0, n);
      assert.equal(
        sha1Base64Portable(text),
        createHash('sha1').update(text).digest('base64'),
        `length ${n}`,
      );
    }
    assert.equal(sha1Base64Portable(''), '2jmj7l5rSw0yVb/vlWAYkK/YBwk=');
    assert.equal(sha1Base64Portable('abc'), 'qZk+NkcGgWq6PiVxeFDCbJzQ2J0=');
  });

  it('the portable SHA-1 matches node:crypto on random Latin-1 strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 300 }), (text) => {
        const expected = createHash('sha1').update(Buffer.from(text, 'latin1')).digest('base64');
        assert.equal(sha1Base64Portable(text), expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe('4.1 Sec-WebSocket-Key', () => {
  for (const [name, platform] of platforms) {
    it(`generateKey gives 24 base64 characters of 16 random bytes, new each call (${name})`, () => {
      const keys = new Set<string>();
      for (let i = 0; i < 50; i++) {
        const key = generateKey(platform);
        assert.equal(key.length, 24);
        assert.match(key, /^[A-Za-z0-9+/]{22}==$/);
        assert.equal(Buffer.from(key, 'base64').length, 16);
        assert.equal(isValidKey(key), true);
        keys.add(key);
      }
      assert.equal(keys.size, 50);
    });
  }

  it('isValidKey accepts only base64 of exactly 16 bytes', () => {
    assert.equal(isValidKey(RFC_KEY), true);
    assert.equal(isValidKey(Buffer.alloc(16).toString('base64')), true);
    assert.equal(isValidKey(Buffer.alloc(16, 0xff).toString('base64')), true);
    const bad = [
      '',
      Buffer.alloc(15).toString('base64'), // 20 chars
      Buffer.alloc(17).toString('base64'), // 24 chars, one '='
      Buffer.alloc(18).toString('base64'), // 24 chars, no '='
      'dGhlIHNhbXBsZSBub25jZQ', // no padding
      'dGhlIHNhbXBsZSBub25jZQ===',
      'dGhlIHNhbXBsZSBub25jZQ=a',
      'dGhlIHNhbXBsZSBub25jZ*==', // not base64
      'dGhlIHNhbXBsZSBub25j ZQ=',
      'dGhlIHNhbXBsZSBub25jZR==', // non-zero bits after the 16th byte
      'dGhlIHNhbXBsZSBub25jZ-==', // base64url
    ];
    for (const key of bad) assert.equal(isValidKey(key), false, JSON.stringify(key));
  });
});

describe('4.1 buildClientRequest', () => {
  const base = { host: 'example.com:8080', path: '/chat?room=1', key: RFC_KEY };

  function parse(request: string): { requestLine: string; headers: Array<[string, string]> } {
    assert.ok(request.endsWith('\r\n\r\n'));
    const [requestLine, ...lines] = request.slice(0, -4).split('\r\n');
    return {
      requestLine: requestLine!,
      headers: lines.map((l) => {
        const i = l.indexOf(': ');
        return [l.slice(0, i), l.slice(i + 2)];
      }),
    };
  }

  it('writes a GET with Host, Upgrade, Connection, key and version 13', () => {
    const { requestLine, headers } = parse(buildClientRequest(base));
    assert.equal(requestLine, 'GET /chat?room=1 HTTP/1.1');
    assert.deepEqual(headers, [
      ['Host', 'example.com:8080'],
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Key', RFC_KEY],
      ['Sec-WebSocket-Version', '13'],
    ]);
  });

  it('adds subprotocols, extensions, origin and custom headers', () => {
    const { headers } = parse(
      buildClientRequest({
        ...base,
        protocols: ['chat', 'superchat'],
        extensions: 'permessage-deflate; client_max_window_bits',
        origin: 'https://example.com',
        headers: { Authorization: 'Bearer abc', 'X-Trace': '1' },
      }),
    );
    const map = new Map(headers);
    assert.equal(map.get('Sec-WebSocket-Protocol'), 'chat, superchat');
    assert.equal(map.get('Sec-WebSocket-Extensions'), 'permessage-deflate; client_max_window_bits');
    assert.equal(map.get('Origin'), 'https://example.com');
    assert.equal(map.get('Authorization'), 'Bearer abc');
    assert.equal(map.get('X-Trace'), '1');
    assert.equal(map.get('Sec-WebSocket-Version'), '13');
  });

  it('omits Sec-WebSocket-Protocol for an empty protocol list', () => {
    assert.doesNotMatch(buildClientRequest({ ...base, protocols: [] }), /Sec-WebSocket-Protocol/);
  });

  it('refuses CR, LF and NUL in header values and invalid header names', () => {
    for (const value of ['a\r\nInjected: 1', 'a\nb', 'a\rb', 'a\0b', 'snow☃']) {
      assert.throws(
        () => buildClientRequest({ ...base, headers: { 'X-A': value } }),
        TypeError,
        JSON.stringify(value),
      );
      assert.throws(() => buildClientRequest({ ...base, origin: value }), TypeError);
    }
    for (const name of ['', 'Bad Name', 'X-A\r\nInjected', 'a:b']) {
      assert.throws(
        () => buildClientRequest({ ...base, headers: { [name]: 'v' } }),
        TypeError,
        JSON.stringify(name),
      );
    }
  });

  it('refuses to override the headers the handshake sets, in any case', () => {
    for (const name of [
      'Host',
      'upgrade',
      'CONNECTION',
      'Sec-WebSocket-Key',
      'sec-websocket-version',
      'Sec-WebSocket-Protocol',
      'Sec-WebSocket-Extensions',
    ]) {
      assert.throws(
        () => buildClientRequest({ ...base, headers: { [name]: 'x' } }),
        TypeError,
        name,
      );
    }
  });
});

describe('4.1 validateServerResponse', () => {
  const expected: ExpectedResponse = { key: RFC_KEY, protocols: [] };
  const good = {
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-accept': RFC_ACCEPT,
  };

  function rejects(
    response: { status: number; headers: Record<string, string> },
    exp: ExpectedResponse = expected,
    platform: Platform = nodePlatform,
  ): HandshakeError {
    let caught: unknown;
    assert.throws(() => {
      try {
        validateServerResponse(response, exp, platform);
      } catch (error) {
        caught = error;
        throw error;
      }
    });
    assert.ok(caught instanceof HandshakeError, String(caught));
    assert.equal(caught.code, 'ERR_WS_HANDSHAKE');
    assert.equal(caught.status, response.status);
    return caught;
  }

  for (const [name, platform] of platforms) {
    it(`accepts a correct 101 (${name} platform)`, () => {
      assert.deepEqual(validateServerResponse({ status: 101, headers: good }, expected, platform), {
        protocol: '',
        extensions: '',
      });
    });
  }

  it('a non-101 status is a HandshakeError carrying the status and headers', () => {
    for (const status of [200, 400, 403, 404, 426, 500]) {
      const error = rejects({ status, headers: { ...good, 'x-reason': 'nope' } });
      assert.equal(error.headers?.['x-reason'], 'nope');
      assert.match(error.message, new RegExp(String(status)));
    }
  });

  it('accepts Upgrade and Connection tokens in any case and inside lists', () => {
    for (const [upgrade, connection] of [
      ['WebSocket', 'upgrade'],
      ['WEBSOCKET', 'UPGRADE'],
      ['websocket', 'keep-alive, Upgrade'],
      ['h2c, websocket', 'Upgrade ,keep-alive'],
      ['websocket', '\tupgrade\t'],
    ] as const) {
      assert.doesNotThrow(
        () =>
          validateServerResponse(
            { status: 101, headers: { ...good, upgrade, connection } },
            expected,
            nodePlatform,
          ),
        `${upgrade} / ${connection}`,
      );
    }
  });

  it('missing or wrong Upgrade or Connection is a HandshakeError', () => {
    const { upgrade: _u, ...noUpgrade } = good;
    const { connection: _c, ...noConnection } = good;
    rejects({ status: 101, headers: noUpgrade });
    rejects({ status: 101, headers: noConnection });
    rejects({ status: 101, headers: { ...good, upgrade: 'h2c' } });
    rejects({ status: 101, headers: { ...good, upgrade: 'websocket2' } });
    rejects({ status: 101, headers: { ...good, upgrade: 'web socket' } });
    rejects({ status: 101, headers: { ...good, connection: 'keep-alive' } });
    rejects({ status: 101, headers: { ...good, connection: 'upgrades' } });
  });

  it('a wrong or missing Sec-WebSocket-Accept is a HandshakeError', () => {
    const { 'sec-websocket-accept': _a, ...noAccept } = good;
    rejects({ status: 101, headers: noAccept });
    rejects({
      status: 101,
      headers: { ...good, 'sec-websocket-accept': 'x3JJHMbDL1EzLkh9GBhXDw==' },
    });
    rejects({
      status: 101,
      headers: { ...good, 'sec-websocket-accept': RFC_ACCEPT.toLowerCase() },
    });
    rejects({ status: 101, headers: good }, { key: generateKey(nodePlatform), protocols: [] });
    rejects(
      { status: 101, headers: good },
      { key: generateKey(nodePlatform), protocols: [] },
      portablePlatform,
    );
  });

  it('returns the subprotocol the server picked from the offer', () => {
    const result = validateServerResponse(
      { status: 101, headers: { ...good, 'sec-websocket-protocol': 'superchat' } },
      { key: RFC_KEY, protocols: ['chat', 'superchat'] },
      nodePlatform,
    );
    assert.equal(result.protocol, 'superchat');
  });

  it('an unrequested or unoffered subprotocol is a HandshakeError', () => {
    rejects({ status: 101, headers: { ...good, 'sec-websocket-protocol': 'chat' } });
    rejects(
      { status: 101, headers: { ...good, 'sec-websocket-protocol': 'other' } },
      { key: RFC_KEY, protocols: ['chat'] },
    );
    rejects(
      { status: 101, headers: { ...good, 'sec-websocket-protocol': 'chat, superchat' } },
      { key: RFC_KEY, protocols: ['chat', 'superchat'] },
    );
  });

  it('an extension that was not offered is a HandshakeError', () => {
    rejects({
      status: 101,
      headers: { ...good, 'sec-websocket-extensions': 'permessage-deflate' },
    });
  });

  it('acceptExtensions decides about the extension answer', () => {
    const seen: string[] = [];
    const result = validateServerResponse(
      { status: 101, headers: { ...good, 'sec-websocket-extensions': 'permessage-deflate' } },
      {
        key: RFC_KEY,
        protocols: [],
        acceptExtensions: (header) => {
          seen.push(header);
          return 'agreed';
        },
      },
      nodePlatform,
    );
    assert.deepEqual(seen, ['permessage-deflate']);
    assert.equal(result.extensions, 'agreed');
    assert.throws(
      () =>
        validateServerResponse(
          { status: 101, headers: { ...good, 'sec-websocket-extensions': 'x-unknown' } },
          {
            key: RFC_KEY,
            protocols: [],
            acceptExtensions: () => {
              throw new HandshakeError('refused');
            },
          },
          nodePlatform,
        ),
      HandshakeError,
    );
  });
});

describe('4.2.1 checkUpgradeRequest', () => {
  const headers = {
    host: 'example.com',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': RFC_KEY,
    'sec-websocket-version': '13',
  };
  const request = (
    overrides: Partial<UpgradeRequest> = {},
    extra: UpgradeRequest['headers'] = {},
  ): UpgradeRequest => ({
    method: 'GET',
    httpVersion: '1.1',
    ...overrides,
    headers: { ...headers, ...extra },
  });
  function refused(req: UpgradeRequest, status: number): void {
    const result = checkUpgradeRequest(req);
    assert.equal(result.ok, false, JSON.stringify(req));
    if (!result.ok) {
      assert.equal(result.status, status);
      assert.ok(result.message.length > 0);
    }
  }

  it('accepts a valid request', () => {
    assert.deepEqual(checkUpgradeRequest(request()), {
      ok: true,
      key: RFC_KEY,
      protocols: [],
      extensions: undefined,
    });
  });

  it('accepts HTTP/2.0 and case or list variants of Upgrade and Connection', () => {
    assert.equal(checkUpgradeRequest(request({ httpVersion: '2.0' })).ok, true);
    assert.equal(
      checkUpgradeRequest(request({}, { upgrade: 'WebSocket', connection: 'keep-alive, UPGRADE' }))
        .ok,
      true,
    );
    assert.equal(
      checkUpgradeRequest(request({}, { connection: ['keep-alive', 'Upgrade'] })).ok,
      true,
    );
  });

  it('returns the offered subprotocols in order and the extension offer', () => {
    const result = checkUpgradeRequest(
      request(
        {},
        {
          'sec-websocket-protocol': 'chat, superchat',
          'sec-websocket-extensions': 'permessage-deflate',
        },
      ),
    );
    assert.deepEqual(result, {
      ok: true,
      key: RFC_KEY,
      protocols: ['chat', 'superchat'],
      extensions: 'permessage-deflate',
    });
  });

  it('a method other than GET is 405 with Allow: GET', () => {
    for (const method of ['POST', 'PUT', 'get', 'HEAD']) {
      const result = checkUpgradeRequest(request({ method }));
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.status, 405);
        assert.deepEqual(result.headers, { Allow: 'GET' });
      }
    }
  });

  it('HTTP/1.0 (or garbage) is 400', () => {
    refused(request({ httpVersion: '1.0' }), 400);
    refused(request({ httpVersion: '0.9' }), 400);
    refused(request({ httpVersion: 'x' }), 400);
  });

  it('a missing or empty Host is 400', () => {
    refused(request({}, { host: undefined }), 400);
    refused(request({}, { host: '' }), 400);
  });

  it('a missing or wrong Upgrade or Connection is 400', () => {
    refused(request({}, { upgrade: undefined }), 400);
    refused(request({}, { upgrade: 'h2c' }), 400);
    refused(request({}, { connection: undefined }), 400);
    refused(request({}, { connection: 'keep-alive' }), 400);
  });

  it('version 8, a missing version or a list of versions is 426 with Sec-WebSocket-Version: 13', () => {
    for (const version of ['8', undefined, '', '13, 8', '14']) {
      const result = checkUpgradeRequest(request({}, { 'sec-websocket-version': version }));
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.status, 426, String(version));
        assert.deepEqual(result.headers, { 'Sec-WebSocket-Version': '13' });
      }
    }
  });

  it('a missing or malformed key is 400', () => {
    for (const key of [
      undefined,
      '',
      Buffer.alloc(15).toString('base64'),
      Buffer.alloc(17).toString('base64'),
      'not base64 at all!!!!!==',
      RFC_KEY.slice(0, -2),
    ]) {
      refused(request({}, { 'sec-websocket-key': key }), 400);
    }
    refused(request({}, { 'sec-websocket-key': [RFC_KEY, RFC_KEY] }), 400);
  });

  it('a duplicate or invalid subprotocol is 400', () => {
    refused(request({}, { 'sec-websocket-protocol': 'chat, chat' }), 400);
    refused(request({}, { 'sec-websocket-protocol': 'chat, bad protocol' }), 400);
    refused(request({}, { 'sec-websocket-protocol': 'chat, "quoted"' }), 400);
    refused(request({}, { 'sec-websocket-protocol': 'chat/1' }), 400);
  });

  it('a request built by buildClientRequest passes, and its answer validates', () => {
    for (const [, platform] of platforms) {
      const key = generateKey(platform);
      const check = checkUpgradeRequest(
        request({}, { 'sec-websocket-key': key, 'sec-websocket-protocol': 'a, b' }),
      );
      assert.equal(check.ok, true);
      const response = buildAcceptResponse(key, platform, { protocol: 'b' });
      const lines = response.slice(0, -4).split('\r\n');
      assert.equal(lines[0], 'HTTP/1.1 101 Switching Protocols');
      const hdrs = Object.fromEntries(
        lines
          .slice(1)
          .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 2)]),
      );
      assert.equal(hdrs['sec-websocket-accept'], computeAccept(key, nodePlatform));
      assert.deepEqual(
        validateServerResponse(
          { status: 101, headers: hdrs },
          { key, protocols: ['a', 'b'] },
          platform,
        ),
        {
          protocol: 'b',
          extensions: '',
        },
      );
    }
  });
});

describe('buildAcceptResponse', () => {
  it('writes the extensions answer and extra headers, and refuses header injection', () => {
    const response = buildAcceptResponse('dGhlIHNhbXBsZSBub25jZQ==', nodePlatform, {
      extensions: 'permessage-deflate',
      headers: { 'X-Served-By': 'test' },
    });
    const lines = response.slice(0, -4).split('\r\n');
    assert.ok(lines.includes('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo='));
    assert.ok(lines.includes('Sec-WebSocket-Extensions: permessage-deflate'));
    assert.equal(lines.at(-1), 'X-Served-By: test');
    assert.throws(
      () =>
        buildAcceptResponse('dGhlIHNhbXBsZSBub25jZQ==', nodePlatform, {
          headers: { 'X-A': 'a\r\nSet-Cookie: x' },
        }),
      TypeError,
    );
  });
});

describe('buildRejectResponse', () => {
  it('writes status, Connection: close, Content-Length in bytes and the body', () => {
    const response = buildRejectResponse(426, 'version ✗', { 'Sec-WebSocket-Version': '13' });
    const [head, body] = response.split('\r\n\r\n');
    const lines = head!.split('\r\n');
    assert.equal(lines[0], 'HTTP/1.1 426 Upgrade Required');
    assert.ok(lines.includes('Connection: close'));
    assert.ok(lines.includes(`Content-Length: ${Buffer.byteLength('version ✗')}`));
    assert.ok(lines.includes('Sec-WebSocket-Version: 13'));
    assert.equal(body, 'version ✗');
  });

  it('refuses header injection', () => {
    assert.throws(() => buildRejectResponse(400, '', { 'X-A': 'a\r\nSet-Cookie: x' }), TypeError);
  });
});
