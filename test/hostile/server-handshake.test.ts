// Handshake and compression attacks against a wskit server in a child process with a 64 MiB
// heap: slow or silent handshakes, crafted subprotocol lists, corrupt compressed data.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  assertHealthy,
  findClose,
  frame,
  rawConnect,
  rawUpgrade,
  serverTarget,
  type Target,
} from './harness.js';

const T = { timeout: 60_000 };
const targets: Target[] = [];
const server = (options: Record<string, unknown> = {}) => serverTarget(targets, options);

after(async () => {
  await Promise.all(targets.map((t) => t.stop()));
});

describe('hostile handshakes and data against the server', () => {
  it(
    'a handshake sent one byte at a time (slow loris): dropped at handshakeTimeout',
    T,
    async () => {
      const { target, port } = await server({ handshakeTimeout: 500 });
      const { socket, closed } = await rawConnect(port);
      const request = 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nX-Slow: ';
      let i = 0;
      const timer = setInterval(() => {
        if (!socket.destroyed) socket.write(request[i++ % request.length]!);
      }, 50);
      const started = Date.now();
      await closed;
      clearInterval(timer);
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 5000, `dropped after ${elapsed} ms (handshakeTimeout 500)`);
      await assertHealthy(target);
    },
  );

  it('a connection that sends nothing at all: dropped at handshakeTimeout', T, async () => {
    const { target, port } = await server({ handshakeTimeout: 300 });
    const { closed } = await rawConnect(port);
    const answer = await closed;
    assert.equal(answer, '', 'no answer, just the close');
    await assertHealthy(target);
  });

  it('corrupt compressed data: 1007 "invalid compressed data", its own error code', T, async () => {
    const { target, port } = await server({ perMessageDeflate: true });
    const client = await rawUpgrade(port, { 'Sec-WebSocket-Extensions': 'permessage-deflate' });
    // A deflate block of the reserved type 3 (RFC 1951 section 3.2.3): no inflater accepts it.
    const corrupt = Buffer.from([0x07, 0x00, 0x00]);
    client.socket.write(frame(0x1, corrupt, { rsv1: true }));
    await client.closed;
    const error = await target.waitFor((m) => m.type === 'error', 5000, 'the error');
    assert.equal(error.closeCode, 1007);
    assert.equal(error.code, 'ERR_WS_INVALID_COMPRESSED_DATA');
    assert.deepEqual(findClose(client.received()), {
      code: 1007,
      reason: 'invalid compressed data',
    });
    await assertHealthy(target);
  });
  it(
    'a Sec-WebSocket-Protocol of many distinct tokens: 15 KB ones are answered, 1 MiB gets 431',
    T,
    async () => {
      const { target, port } = await server();
      const tokens = (bytes: number) => {
        const list: string[] = [];
        let size = 0;
        for (let i = 0; size < bytes; i++) {
          const token = `p${i.toString(36)}`;
          list.push(token);
          size += token.length + 2;
        }
        return list.join(', ');
      };
      // Twenty handshakes at once, each offering ~15 KB of distinct subprotocols.
      const offers = Array.from({ length: 20 }, () =>
        rawUpgrade(port, { 'Sec-WebSocket-Protocol': tokens(15_000) }),
      );
      const clients = await Promise.all(offers);
      for (const client of clients) client.socket.destroy();
      // One offer of 1 MiB: past the head limit, refused without being parsed.
      const { socket, closed } = await rawConnect(port);
      socket.write(
        'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
          `Sec-WebSocket-Protocol: ${tokens(1024 * 1024)}\r\n\r\n`,
      );
      const answer = await closed;
      assert.match(answer, /^HTTP\/1\.1 431 /);
      await assertHealthy(target);
    },
  );
});
