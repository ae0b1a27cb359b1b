/**
 * The server's opening handshake machine (RFC 6455 section 4.2) without a network: requests as
 * bytes or as parsed by an HTTP server in, decisions and answer bytes out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodePlatform } from '../../../src/node/node-platform.js';
import {
  computeAccept,
  ServerHandshake,
  type ServerHandshakeOptions,
  type UpgradeRequest,
} from '../../../src/protocol/index.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const bytes = (text: string) => Buffer.from(text, 'latin1');

function server(options: Partial<ServerHandshakeOptions> = {}): ServerHandshake {
  return new ServerHandshake({ platform: nodePlatform, ...options });
}

function request(extra = '', requestLine = 'GET /chat?room=1 HTTP/1.1'): string {
  return (
    `${requestLine}\r\nHost: example.org\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}

/** Status line and headers of an answer the machine queued. */
function answer(text: string): { status: number; headers: Record<string, string>; body: string } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

const parsed = (headers: UpgradeRequest['headers'], more: Partial<UpgradeRequest> = {}) => ({
  method: 'GET',
  httpVersion: '1.1',
  headers: {
    host: 'h',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': KEY,
    'sec-websocket-version': '13',
    ...headers,
  },
  ...more,
});

describe('ServerHandshake', () => {
  it('reads a request cut at every byte and answers 101 with the selected subprotocol', () => {
    const data = Buffer.concat([
      bytes(request('Sec-WebSocket-Protocol: a, b\r\n')),
      Buffer.from([0x81, 0x80]),
    ]);
    for (let i = 1; i < data.length; i++) {
      const s = server();
      let event = s.receiveData(data.subarray(0, i));
      let rest = data.subarray(i);
      if (event === null) {
        event = s.receiveData(rest);
        rest = Buffer.alloc(0);
      } else {
        assert.ok(i >= data.length - 2);
      }
      assert.ok(event?.type === 'request', `cut at ${i}`);
      assert.deepEqual(event.protocols, ['a', 'b']);
      assert.equal(event.target, '/chat?room=1');
      assert.deepEqual(Buffer.concat([event.rest, rest]), Buffer.from([0x81, 0x80]));
      assert.equal(s.state, 'deciding');
    }
    const s = server();
    s.receiveData(data);
    assert.deepEqual(s.accept({ protocol: 'b' }), { protocol: 'b', extensions: '', deflate: null });
    const out = answer(s.dataToSend());
    assert.equal(out.status, 101);
    assert.equal(out.headers['sec-websocket-accept'], computeAccept(KEY, nodePlatform));
    assert.equal(out.headers['sec-websocket-protocol'], 'b');
    assert.equal(s.state, 'accepted');
    assert.equal(s.dataToSend(), '', 'the answer is handed out once');
  });

  it('refuses invalid requests with the status RFC 6455 section 4.2.1 and 4.4 call for', () => {
    const cases: Array<[string, number, string?]> = [
      [request('', 'POST /chat HTTP/1.1'), 405, 'allow'],
      [request('', 'GET /chat HTTP/1.0'), 400],
      [
        request().replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8'),
        426,
        'sec-websocket-version',
      ],
      [request().replace(KEY, 'short'), 400],
      [request('Sec-WebSocket-Protocol: a, a\r\n'), 400],
      [request('', 'GET  HTTP/1.1'), 400],
      [request('Bad Header: x\r\n'), 400],
      [request('X: a\nY: b\r\n'), 400],
    ];
    for (const [text, status, header] of cases) {
      const s = server();
      const event = s.receiveData(bytes(text));
      assert.ok(event?.type === 'rejected', JSON.stringify(text));
      assert.equal(event.status, status, JSON.stringify(text));
      assert.equal(s.state, 'rejected');
      const out = answer(s.dataToSend());
      assert.equal(out.status, status);
      assert.equal(out.headers.connection, 'close');
      if (header) assert.ok(out.headers[header], `${header} in the ${status} answer`);
    }
  });

  it('answers 431 past maxHeaders or maxHeaderBytes', () => {
    const many = Array.from({ length: 5 }, (_, i) => `X-${i}: v\r\n`).join('');
    assert.equal(server({ maxHeaders: 9 }).receiveData(bytes(request(many)))?.type, 'rejected');
    assert.equal(server({ maxHeaders: 10 }).receiveData(bytes(request(many)))?.type, 'request');
    const big = server({ maxHeaderBytes: 100 });
    const event = big.receiveData(bytes(request()));
    assert.ok(event?.type === 'rejected');
    assert.equal(event.status, 431);
    const counted = server({ maxHeaders: 5 }).receiveRequest(parsed({}, { headerCount: 6 }));
    assert.ok(counted.type === 'rejected');
    assert.equal(counted.status, 431);
  });

  it('skips empty lines before the request line (RFC 9112 section 2.2)', () => {
    const event = server().receiveData(bytes(`\r\n\r\n${request()}`));
    assert.equal(event?.type, 'request');
  });

  it('takes a request parsed by an HTTP server', () => {
    const s = server();
    const event = s.receiveRequest(parsed({ 'sec-websocket-protocol': ['x', 'y'] }));
    assert.ok(event.type === 'request');
    assert.deepEqual(event.protocols, ['x', 'y']);
    assert.equal(event.rest.length, 0);
  });

  it('accepts only an offered subprotocol, and only once it has a request', () => {
    const early = server();
    assert.throws(() => early.accept(), /state "request"/);
    const s = server();
    s.receiveRequest(parsed({ 'sec-websocket-protocol': 'x' }));
    assert.throws(() => s.accept({ protocol: 'z' }), TypeError);
    assert.equal(s.state, 'deciding');
    assert.equal(s.accept({ protocol: false }).protocol, '');
    assert.doesNotMatch(s.dataToSend(), /Sec-WebSocket-Protocol/);
    assert.throws(() => s.accept(), /state "accepted"/);
    assert.throws(() => s.reject(400, 'late'), /state "accepted"/);
  });

  it('rejects on the application decision with its status, body and headers', () => {
    const s = server();
    s.receiveRequest(parsed({}));
    assert.throws(() => s.reject(401, 'no', { 'X-A': 'a\r\nb' }), TypeError);
    assert.equal(s.state, 'deciding', 'nothing was queued for an invalid header');
    s.reject(401, 'who are you?', { 'WWW-Authenticate': 'Basic' });
    const out = answer(s.dataToSend());
    assert.equal(out.status, 401);
    assert.equal(out.body, 'who are you?');
    assert.equal(out.headers['www-authenticate'], 'Basic');
  });

  it('accepts a permessage-deflate offer only when configured to', () => {
    const offer = { 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' };
    const off = server();
    off.receiveRequest(parsed(offer));
    assert.deepEqual(off.accept(), { protocol: '', extensions: '', deflate: null });
    const on = server({ perMessageDeflate: { clientMaxWindowBits: 10 } });
    on.receiveRequest(parsed(offer));
    const accepted = on.accept();
    assert.equal(accepted.extensions, 'permessage-deflate; client_max_window_bits=10');
    assert.equal(accepted.deflate?.clientMaxWindowBits, 10);
    assert.match(
      on.dataToSend(),
      /Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n/,
    );
  });
});
