// Hostile servers against a wskit client in a child process with a 64 MiB heap.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { findClose, flood, frame, HEAP_MIB, rawServer, Target } from './harness.js';

const T = { timeout: 60_000 };
const MiB = 1024 * 1024;
const cleanup: Array<() => Promise<void> | void> = [];

after(async () => {
  for (const step of cleanup) await step();
});

async function client(port: number, options: Record<string, unknown> = {}): Promise<Target> {
  const target = new Target({
    role: 'client',
    library: 'wskit',
    url: `ws://127.0.0.1:${port}/`,
    options,
  });
  cleanup.push(() => target.stop());
  await target.waitFor((m) => m.type === 'open', 10_000, 'open');
  return target;
}

async function assertHealthy(target: Target): Promise<void> {
  assert.ok(target.alive, 'the client process is still running');
  const { heapUsed } = await target.memory();
  assert.ok(heapUsed < HEAP_MIB * MiB * 0.75, `heap in use stays bounded (${heapUsed} bytes)`);
}

describe('hostile servers against the client', () => {
  it(
    'one message as 1-byte continuation frames that never ends: 1009 at maxPayload',
    T,
    async () => {
      let attacked: (socket: Socket) => void = () => {};
      const upgraded = new Promise<Socket>((resolve) => {
        attacked = resolve;
      });
      const raw = await rawServer((socket) => attacked(socket));
      cleanup.push(() => new Promise<void>((resolve) => raw.server.close(() => resolve())));
      const target = await client(raw.port, { maxPayload: 256 * 1024, perMessageDeflate: false });
      // The flood starts once the client has reported its open connection.
      const socket = await upgraded;
      let sent = 0;
      const one = new Uint8Array([0x62]);
      const first = frame(0x2, one, { fin: false, mask: false });
      const next = frame(0x0, one, { fin: false, mask: false });
      const flooding = flood(
        socket,
        () => (sent >= MiB ? null : sent++ === 0 ? first : next),
        40_000,
      );
      const error = await target.waitFor((m) => m.type === 'error', 40_000, 'the error');
      assert.equal(error.closeCode, 1009);
      await raw.closed;
      await flooding;
      // As on the server side, the close frame itself may be lost to a reset under the flood.
      const close = findClose(raw.received());
      if (close) assert.equal(close.code, 1009);
      await assertHealthy(target);
    },
  );

  it('a server that pings without ever reading: 1008', T, async () => {
    let sockets = 0;
    const raw = await rawServer((socket) => {
      sockets++;
      socket.pause();
      const ping = frame(0x9, new Uint8Array(125).fill(1), { mask: false });
      let sent = 0;
      void flood(socket, () => (sent++ >= 1_000_000 ? null : ping), 40_000);
    });
    cleanup.push(() => new Promise<void>((resolve) => raw.server.close(() => resolve())));
    const target = await client(raw.port, { perMessageDeflate: false });
    const error = await target.waitFor((m) => m.type === 'error', 40_000, 'the error');
    assert.equal(error.closeCode, 1008);
    assert.equal(error.code, 'ERR_WS_BACKPRESSURE');
    assert.equal(sockets, 1);
    await assertHealthy(target);
  });

  it('corrupt compressed data from the server: 1007 "invalid compressed data"', T, async () => {
    const raw = await rawServer((socket) => {
      // A deflate block of the reserved type 3 (RFC 1951 section 3.2.3): no inflater accepts it.
      const corrupt = Buffer.from([0x07, 0x00, 0x00]);
      socket.write(frame(0x1, corrupt, { rsv1: true, mask: false }));
    }, 'permessage-deflate');
    cleanup.push(() => new Promise<void>((resolve) => raw.server.close(() => resolve())));
    const target = await client(raw.port);
    const error = await target.waitFor((m) => m.type === 'error', 10_000, 'the error');
    assert.equal(error.closeCode, 1007);
    assert.equal(error.code, 'ERR_WS_INVALID_COMPRESSED_DATA');
    await raw.closed;
    const close = findClose(raw.received());
    assert.equal(close?.code, 1007);
    assert.equal(close?.reason, 'invalid compressed data');
    await assertHealthy(target);
  });
});
