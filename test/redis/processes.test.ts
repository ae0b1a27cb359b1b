/**
 * Topics across server processes on a real Redis: three nodes with publishers on two of them,
 * a Redis restart in the middle of publishing, and one node's Redis connection cut and restored
 * in the middle of publishing. Every test counts messages sent against messages received (plus
 * those reported missing by `gap`).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { describe, it, type TestContext } from 'node:test';
import { WebSocket } from '../../src/index.js';
import { haveRedis, RedisProcess, RedisRelay } from './redis-server.js';

const T = { timeout: 90_000 } as const;
const WAIT_MS = 30_000;

/** Starts a node process on `url`; it is stopped when the test ends. Resolves with its port. */
async function startNode(t: TestContext, url: string): Promise<number> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/redis/node-process.ts', url],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`node did not start: ${errors}`)), WAIT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n')[0];
      if (output.includes('\n') && line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code}: ${errors}`));
    });
  });
}

/** A client of one node: sends commands, records published messages and reported gaps. */
class Peer {
  readonly data: string[] = [];
  missed = 0;
  readonly #replies = new Map<number, (reply: Record<string, unknown>) => void>();
  #nextId = 0;
  readonly #watchers = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener('message', (event) => {
      const text = String(event.data);
      if (text.startsWith('{')) {
        const reply = JSON.parse(text) as Record<string, unknown>;
        if (reply.op === 'gap') this.missed += reply.missed as number;
        else {
          const id = reply.id as number;
          delete reply.id;
          this.#replies.get(id)?.(reply);
          this.#replies.delete(id);
        }
      } else {
        this.data.push(text);
      }
      for (const watch of this.#watchers) watch();
    });
  }

  static async open(t: TestContext, port: number): Promise<Peer> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    t.after(() => ws.terminate());
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = (event) => reject(event.error);
    });
    return new Peer(ws);
  }

  command(command: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const id = this.#nextId++;
      this.#replies.set(id, resolve);
      this.ws.send(JSON.stringify({ ...command, id }));
    });
  }

  /** Resolves once `ready()` holds after some message; rejects after WAIT_MS. */
  until(ready: () => boolean, what: string): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const watch = () => {
        if (!ready()) return;
        clearTimeout(timer);
        this.#watchers.delete(watch);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#watchers.delete(watch);
        reject(
          new Error(`${what}: timed out with ${this.data.length} messages, ${this.missed} missed`),
        );
      }, WAIT_MS);
      this.#watchers.add(watch);
    });
  }

  /** Messages of publisher `from`, as their numbers. */
  numbersFrom(from: string): number[] {
    return this.data
      .filter((m) => m.startsWith(`${from}:`))
      .map((m) => Number(m.slice(from.length + 1)));
  }
}

function ascending(numbers: number[]): boolean {
  return numbers.every((n, i) => i === 0 || n > numbers[i - 1]!);
}

describe('topics across processes on Redis', () => {
  it('three nodes: every subscriber gets every publish, in order per publisher', T, async (t) => {
    if (!haveRedis(t)) return;
    const redis = await RedisProcess.start(t);
    const ports = await Promise.all([0, 1, 2].map(() => startNode(t, redis.url)));
    const subscribers: Peer[] = [];
    for (const port of ports) {
      for (let i = 0; i < 2; i++) {
        const peer = await Peer.open(t, port);
        await peer.command({ op: 'sub', topic: 'room' });
        subscribers.push(peer);
      }
    }
    const bystander = await Peer.open(t, ports[2]!);
    await bystander.command({ op: 'sub', topic: 'other' });
    const [pubA, pubB] = [await Peer.open(t, ports[0]!), await Peer.open(t, ports[1]!)];
    const n = 300;
    const replies = await Promise.all([
      pubA.command({ op: 'pub', topic: 'room', from: 'A', count: n, every: 10 }),
      pubB.command({ op: 'pub', topic: 'room', from: 'B', count: n, every: 10 }),
    ]);
    for (const reply of replies) assert.deepEqual(reply, { op: 'published', sent: n, refused: 0 });
    await pubA.command({ op: 'pub', topic: 'other', from: 'end', count: 1 });
    await bystander.until(() => bystander.data.length === 1, 'the bystander');
    for (const peer of subscribers) {
      await peer.until(() => peer.data.length >= 2 * n, 'a subscriber');
      const [a, b] = [peer.numbersFrom('A'), peer.numbersFrom('B')];
      assert.equal(peer.data.length, 2 * n, 'no duplicates');
      assert.deepEqual(a, [...Array(n).keys()], 'all of A, in order');
      assert.deepEqual(b, [...Array(n).keys()], 'all of B, in order');
      assert.equal(peer.missed, 0);
    }
    assert.deepEqual(bystander.data, ['end:0'], 'only the topic it subscribed to');
  });

  it('two nodes: Redis restarted in the middle of publishing', T, async (t) => {
    if (!haveRedis(t)) return;
    const redis = await RedisProcess.start(t);
    const [portA, portB] = await Promise.all([startNode(t, redis.url), startNode(t, redis.url)]);
    const subscribers = [await Peer.open(t, portB!), await Peer.open(t, portB!)];
    for (const peer of subscribers) await peer.command({ op: 'sub', topic: 'feed' });
    const publisher = await Peer.open(t, portA!);
    const n = 2000;
    const first = publisher.command({ op: 'pub', topic: 'feed', from: 'A', count: n, every: 1 });
    // Stop Redis once publishing is well under way, whatever the speed of the machine.
    await subscribers[0]!.until(() => subscribers[0]!.data.length >= 200, 'the first 200');
    await redis.stop();
    // Published while Redis is down: queued by the node, sent once Redis is back.
    const m = 500;
    const second = await publisher.command({ op: 'pub', topic: 'feed', from: 'B', count: m });
    assert.deepEqual(second, { op: 'published', sent: m, refused: 0 });
    await redis.start();
    assert.equal((await first).refused, 0);
    // A last message after everything reveals any gap at the end of the run.
    await publisher.command({ op: 'pub', topic: 'feed', from: 'Z', count: 1 });
    for (const peer of subscribers) {
      await peer.until(() => peer.data.includes('Z:0'), 'the last message');
      const [a, b] = [peer.numbersFrom('A'), peer.numbersFrom('B')];
      assert.ok(ascending(a) && ascending(b), 'in order, no duplicates');
      // What the publishing node queued reaches Redis; a subscribing node that reconnects after
      // more than `history` (1000) newer messages finds the oldest trimmed, and says so.
      assert.equal(
        a.length + b.length + peer.missed,
        n + m,
        'each message received or counted missing',
      );
      assert.ok(a.length >= 200);
    }
  });

  it('two nodes: one node’s Redis connection cut and restored while publishing', T, async (t) => {
    if (!haveRedis(t)) return;
    const redis = await RedisProcess.start(t);
    const relay = await RedisRelay.start(t, redis.port);
    const [portA, portB] = await Promise.all([startNode(t, redis.url), startNode(t, relay.url)]);
    const subscriber = await Peer.open(t, portB!);
    await subscriber.command({ op: 'sub', topic: 'feed' });
    const publisher = await Peer.open(t, portA!);
    const n = 300;
    const first = publisher.command({ op: 'pub', topic: 'feed', from: 'A', count: n, every: 1 });
    await subscriber.until(() => subscriber.data.length >= 100, 'the first 100');
    relay.cut();
    assert.deepEqual(await first, { op: 'published', sent: n, refused: 0 });
    // Published while the subscribing node is cut off from Redis.
    const second = await publisher.command({ op: 'pub', topic: 'feed', from: 'B', count: n });
    assert.deepEqual(second, { op: 'published', sent: n, refused: 0 });
    relay.restore();
    await subscriber.until(() => subscriber.data.length >= 2 * n, 'all messages');
    // Within the history kept per topic (1000), the node catches up on everything.
    assert.deepEqual(subscriber.numbersFrom('A'), [...Array(n).keys()]);
    assert.deepEqual(subscriber.numbersFrom('B'), [...Array(n).keys()]);
    assert.equal(subscriber.data.length, 2 * n);
    assert.equal(subscriber.missed, 0);
  });
});
