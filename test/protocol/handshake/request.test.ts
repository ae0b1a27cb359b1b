/** RFC 6455 section 4: the client request and the server's check of it (handshake/request.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodePlatform } from '../../../src/node/node-platform.js';
import {
  buildAcceptResponse,
  buildClientRequest,
  checkUpgradeRequest,
  computeAccept,
  generateKey,
  type UpgradeRequest,
  validateServerResponse,
} from '../../../src/protocol/index.js';
import { platforms } from '../helpers.js';

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

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
