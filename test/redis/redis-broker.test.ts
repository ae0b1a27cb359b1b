/**
 * The Redis broker against a real redis-server, servers in this process: delivery between
 * nodes, text and binary, interest, a clear error when Redis is unreachable at start, catch-up
 * after a node's connection is cut and restored, gaps counted when history was trimmed, and
 * publishes queued while Redis is unreachable up to a bound, then refused.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import type { BrokerError } from '../../src/index.js';
import { type RedisBroker, type RedisBrokerOptions, redisBroker } from '../../src/redis/index.js';
import { collectMessages } from '../node/helpers.js';
import { closedPort } from '../support/ports.js';
import { Scope, type StartedServer } from '../support/scope.js';
import { nextEmit } from '../support/waits.js';
import { haveRedis, RedisProcess, RedisRelay } from './redis-server.js';

const T = { timeout: 30_000 } as const;

/** A server on 127.0.0.1:0 with a RedisBroker, ready once its broker is. */
async function node(env: Scope, options: RedisBrokerOptions): Promise<StartedServer> {
  const broker = redisBroker(options);
  const server = await env.server({ broker });
  await server.wss.brokerReady();
  return server;
}

/** A client of `server` whose server-side socket is subscribed to `topics`. */
async function subscriber(env: Scope, server: StartedServer, ...topics: string[]) {
  const { client, peer } = await env.pair(server, '/', [], { binaryType: 'nodebuffer' });
  for (const topic of topics) peer.subscribe(topic);
  await server.wss.brokerReady();
  return { client, peer };
}

function messages(n: number, prefix: string): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

describe('RedisBroker', () => {
  it('delivers publishes between nodes, in order, text and binary', T, async (t) => {
    if (!haveRedis(t)) return;
    const redis = await RedisProcess.start(t);
    const env = new Scope(t);
    const a = await node(env, { url: redis.url });
    const b = await node(env, { url: redis.url });
    const brokerOf = (node: StartedServer) => node.wss.options.broker as RedisBroker;
    assert.deepEqual(brokerOf(a).topics, []);
    const onA = await subscriber(env, a, 'chat');
    const onB = await subscriber(env, b, 'chat', 'bin');
    // Interest: each node reads only the topics it has subscribers for.
    assert.deepEqual(brokerOf(a).topics, ['chat']);
    assert.deepEqual(brokerOf(b).topics.sort(), ['bin', 'chat']);
    const gotA = collectMessages(onA.client, 3);
    const gotB = collectMessages(onB.client, 3);
    assert.equal(a.wss.publish('chat', 'a1'), 1);
    assert.equal(a.wss.publish('bin', Buffer.from([0, 255, 1])), 0);
    assert.equal(b.wss.publish('chat', 'b1', { except: onB.peer }), 0);
    assert.equal(a.wss.publish('chat', 'a2'), 1);
    assert.equal(a.wss.publish('nobody', 'x'), 0);
    const show = (d: unknown) => (Buffer.isBuffer(d) ? `bin:${d.toString('hex')}` : String(d));
    // Order holds per publisher (a1 before a2); b1 comes from another node, through Redis.
    const receivedA = (await gotA).map(show);
    assert.deepEqual(
      receivedA.filter((m) => m !== 'b1'),
      ['a1', 'a2'],
    );
    assert.ok(receivedA.includes('b1'));
    const received = (await gotB).map(show);
    // Order holds per publisher and topic; topics are separate streams.
    assert.deepEqual(
      received.filter((m) => m !== 'bin:00ff01'),
      ['a1', 'a2'],
    );
    assert.ok(received.includes('bin:00ff01'));
    onB.peer.unsubscribe('bin');
    assert.deepEqual(brokerOf(b).topics, ['chat']);
  });

  it('reports Redis unreachable at start as ERR_WS_BROKER_UNAVAILABLE', T, async (t) => {
    const env = new Scope(t);
    const port = await closedPort();
    const broker = redisBroker({ url: `redis://127.0.0.1:${port}` });
    const errors: Error[] = [];
    const server = await env.server({ broker });
    server.wss.on('error', (error) => errors.push(error));
    await assert.rejects(server.wss.brokerReady(), (error: BrokerError) => {
      assert.equal(error.name, 'BrokerError');
      assert.equal(error.code, 'ERR_WS_BROKER_UNAVAILABLE');
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}.*start Redis`));
      return true;
    });
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as BrokerError).code, 'ERR_WS_BROKER_UNAVAILABLE');
  });

  it('catches up after its connection is cut and restored', T, async (t) => {
    if (!haveRedis(t)) return;
    const redis = await RedisProcess.start(t);
    const relay = await RedisRelay.start(t, redis.port);
    const env = new Scope(t);
    const a = await node(env, { url: redis.url });
    const b = await node(env, { url: relay.url });
    const onB = await subscriber(env, b, 'feed');
    const gaps: number[] = [];
    b.wss.on('gap', (_topic, missed) => gaps.push(missed));
    const sent = messages(200, 'm');
    const got = collectMessages(onB.client, sent.length, 15_000);
    for (const m of sent.slice(0, 50)) a.wss.publish('feed', m);
    await a.wss.brokerReady();
    relay.cut();
    for (const m of sent.slice(50, 150)) a.wss.publish('feed', m);
    await a.wss.brokerReady();
    relay.restore();
    for (const m of sent.slice(150)) a.wss.publish('feed', m);
    assert.deepEqual(await got, sent, 'every message, once, in order');
    assert.deepEqual(gaps, []);
  });

  it('reports a gap with the count missed when history was trimmed meanwhile', T, async (t) => {
    if (!haveRedis(t)) return;
    const redis = await RedisProcess.start(t);
    const relay = await RedisRelay.start(t, redis.port);
    const env = new Scope(t);
    // Redis trims approximately, in whole blocks of 100 entries: publish far more than that.
    const a = await node(env, { url: redis.url, history: 10 });
    const b = await node(env, { url: relay.url, history: 10 });
    const onB = await subscriber(env, b, 'feed');
    const gaps: number[] = [];
    b.wss.on('gap', (topic, missed) => {
      assert.equal(topic, 'feed');
      gaps.push(missed);
    });
    const first = collectMessages(onB.client, 1);
    a.wss.publish('feed', 'first');
    assert.deepEqual(await first, ['first']);
    relay.cut();
    const during = 1000;
    for (let i = 0; i < during; i++) a.wss.publish('feed', `during ${i}`);
    await a.wss.brokerReady();
    const received: string[] = [];
    const after = new Promise<void>((resolve) => {
      onB.client.addEventListener('message', (event) => {
        received.push(String(event.data));
        if (event.data === 'after') resolve();
      });
    });
    relay.restore();
    a.wss.publish('feed', 'after');
    await after;
    const missed = gaps.reduce((x, y) => x + y, 0);
    assert.ok(missed > 0, 'history of ~10 cannot hold 1000 messages: some were missed');
    assert.equal(received.length + missed, during + 1, 'each message received or counted missed');
    const numbers = received.slice(0, -1).map((m) => Number(m.slice('during '.length)));
    assert.deepEqual(
      numbers,
      numbers.slice().sort((x, y) => x - y),
      'in order',
    );
  });

  it('queues publishes while Redis is unreachable, then refuses past the bound', T, async (t) => {
    if (!haveRedis(t)) return;
    const redis = await RedisProcess.start(t);
    const relay = await RedisRelay.start(t, redis.port);
    const env = new Scope(t);
    const a = await node(env, { url: relay.url, maxQueued: 5 });
    const b = await node(env, { url: redis.url });
    const onB = await subscriber(env, b, 'q');
    const got = collectMessages(onB.client, 5, 15_000);
    const broker = a.wss.options.broker as ReturnType<typeof redisBroker>;
    const down = nextEmit(broker, 'down');
    relay.cut();
    await down;
    for (const m of messages(5, 'q')) a.wss.publish('q', m);
    assert.throws(
      () => a.wss.publish('q', 'one too many'),
      (error: BrokerError) =>
        error.code === 'ERR_WS_BROKER_QUEUE_FULL' && /maxQueued/.test(error.message),
    );
    relay.restore();
    assert.deepEqual(await got, messages(5, 'q'));
  });
});
