// A hostile server against the InCore dialect's IoDevice read buffer, in a child process with a
// 64 MiB heap: one-byte binary messages without a newline, many more than the buffer may hold.
// Each message is scanned once (the buffer is linear in what it receives), and past
// readBufferSize the connection is failed with 1009 instead of growing.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { findClose, flood, frame, HEAP_MIB, rawServer, Target } from './harness.js';

const T = { timeout: 60_000 };
const cleanup: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const step of cleanup) await step();
});

describe('hostile servers against the InCore read buffer', () => {
  it('200,000 1-byte binary messages without a newline: 1009 at readBufferSize', T, async () => {
    let attacked: (socket: Socket) => void = () => {};
    const upgraded = new Promise<Socket>((resolve) => {
      attacked = resolve;
    });
    const raw = await rawServer((socket) => attacked(socket));
    cleanup.push(() => new Promise<void>((resolve) => raw.server.close(() => resolve())));
    const limit = 32 * 1024;
    const target = new Target(
      { url: `ws://127.0.0.1:${raw.port}/`, readBufferSize: limit },
      'incore-target.mjs',
    );
    cleanup.push(() => target.stop());
    await target.waitFor((m) => m.type === 'open', 20_000, 'open');
    const socket = await upgraded;
    const message = frame(0x2, new Uint8Array([0x61]), { mask: false });
    let sent = 0;
    const flooding = flood(socket, () => (sent++ >= 200_000 ? null : message), 40_000);
    const error = await target.waitFor((m) => m.type === 'error', 40_000, 'the error');
    assert.equal(error.code, 1, 'InCore Error.IpSocketError');
    assert.match(error.message ?? '', /read buffer is full/);
    await raw.closed;
    await flooding;
    const close = findClose(raw.received());
    if (close) assert.equal(close.code, 1009);
    assert.ok(target.alive, 'the process is still running');
    const { heapUsed } = await target.memory();
    assert.ok(heapUsed < HEAP_MIB * 1024 * 1024 * 0.75, `heap stays bounded (${heapUsed} bytes)`);
  });
});
