/** RFC 6455 section 4: the server response and the client's check of it (handshake/response.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandshakeError } from '../../../src/errors.js';
import { nodePlatform } from '../../../src/node/node-platform.js';
import {
  buildAcceptResponse,
  buildRejectResponse,
  type ExpectedResponse,
  generateKey,
  type Platform,
  portablePlatform,
  validateServerResponse,
} from '../../../src/protocol/index.js';
import { platforms } from '../helpers.js';

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

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
