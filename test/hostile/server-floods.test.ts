// Floods against a wskit server in a child process with a 64 MiB heap: each must end with the
// offender closed for a specific reason while the process lives on with bounded memory.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  assertHealthy,
  findClose,
  flood,
  frame,
  rawUpgrade,
  serverTarget,
  Target,
} from './harness.js';

const T = { timeout: 60_000 };
const MiB = 1024 * 1024;
const targets: Target[] = [];
const server = (options: Record<string, unknown> = {}) => serverTarget(targets, options);

after(async () => {
  await Promise.all(targets.map((t) => t.stop()));
});

describe('hostile floods against the server', () => {
  it(
    'one message as 1-byte continuation frames that never ends: 1009 at maxPayload',
    T,
    async () => {
      const { target, port } = await server({ maxPayload: 256 * 1024 });
      const client = await rawUpgrade(port);
      let sent = 0;
      const one = new Uint8Array([0x61]);
      const first = frame(0x1, one, { fin: false });
      const next = frame(0x0, one, { fin: false });
      // Up to 1 MiB of payload: four times the limit.
      await flood(client.socket, () => (sent >= MiB ? null : sent++ === 0 ? first : next), 40_000);
      await client.closed;
      const error = await target.waitFor((m) => m.type === 'error', 5000, 'the error');
      assert.equal(error.closeCode, 1009);
      assert.equal(error.code, 'ERR_WS_MESSAGE_TOO_BIG');
      // The close frame may be lost on the wire: the server closes TCP while the flood still
      // arrives, and the kernel answers unread data with a reset. What counts is the code the
      // server failed the connection with.
      const close = findClose(client.received());
      if (close) assert.equal(close.code, 1009);
      await assertHealthy(target);
    },
  );

  it('200,000 zero-length continuation frames hold no memory', T, async () => {
    const { target, port } = await server({ maxPayload: MiB });
    const client = await rawUpgrade(port);
    let sent = 0;
    const empty = new Uint8Array(0);
    await flood(
      client.socket,
      () => (sent >= 200_000 ? null : frame(sent++ === 0 ? 0x2 : 0x0, empty, { fin: false })),
      30_000,
    );
    // 200,000 empty fragments hold no payload: the server keeps the connection and its heap small.
    await assertHealthy(target);
    client.socket.destroy();
  });

  it('a million pings from a peer that never reads: reading pauses, then 1008', T, async () => {
    const { target, port } = await server();
    const client = await rawUpgrade(port);
    client.socket.pause(); // never read the pongs
    let sent = 0;
    const payload = new Uint8Array(125).fill(0x70);
    const ping = frame(0x9, payload);
    await flood(client.socket, () => (sent++ >= 1_000_000 ? null : ping), 40_000);
    const error = await target.waitFor((m) => m.type === 'error', 20_000, 'the error');
    assert.equal(error.closeCode, 1008);
    assert.equal(error.code, 'ERR_WS_BACKPRESSURE');
    await target.waitFor((m) => m.type === 'close', 5000, 'the close');
    assert.ok(sent < 1_000_000, `the server stopped the flood (${sent} pings sent)`);
    await assertHealthy(target);
    client.socket.destroy();
  });

  it(
    'a client that never reads while the application sends 1 GiB: dropped at sendQueueLimit',
    T,
    async () => {
      const attacker = new Target({
        role: 'server',
        library: 'wskit',
        options: { sendQueueLimit: 8 * MiB },
        sendOnOpen: { size: MiB, count: 1024 },
      });
      targets.push(attacker);
      const sendingPort = await attacker.port();
      const client = await rawUpgrade(sendingPort);
      client.socket.pause();
      const error = await attacker.waitFor((m) => m.type === 'error', 20_000, 'the error');
      assert.equal(error.code, 'ERR_WS_BACKPRESSURE');
      const close = await attacker.waitFor((m) => m.type === 'close', 5000, 'the close');
      assert.equal(close.code, 1006);
      await assertHealthy(attacker);
      const { rss } = await attacker.memory();
      assert.ok(rss < 200 * MiB, `RSS stays far below the 1 GiB sent (${rss} bytes)`);
      client.socket.destroy();
    },
  );
});
