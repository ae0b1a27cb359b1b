/**
 * Topics on one server and between servers of one process: subscribe, unsubscribe, publish
 * (text, binary, except), counts, leaving on close, the frame written once (and compressed once
 * when the agreement allows it), and the in-process broker.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { constants, inflateRawSync } from 'node:zlib';
import { BrokerError, InProcessBroker, type WebSocket, WebSocketError } from '../../src/index.js';
import { makeKey, upgradeRequest } from '../support/raw-peers.js';
import { Scope, type StartedServer } from '../support/scope.js';
import { nextEmit, nextEvent } from '../support/waits.js';
import { collectMessages } from './helpers.js';

const T = { timeout: 20_000 } as const;

async function peers(env: Scope, server: StartedServer, n: number) {
  const pairs: Array<{ client: WebSocket; peer: WebSocket }> = [];
  for (let i = 0; i < n; i++)
    pairs.push(await env.pair(server, '/', [], { binaryType: 'nodebuffer' }));
  return pairs;
}

const show = (data: unknown) =>
  Buffer.isBuffer(data) ? `bin:${data.toString('hex')}` : `text:${String(data)}`;

describe('topics on one server', () => {
  it('publishes to the subscribers of a topic only, and counts them', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const [a, b, c] = await peers(env, server, 3);
    assert.equal(a!.peer.subscribe('news'), true);
    assert.equal(a!.peer.subscribe('news'), false);
    b!.peer.subscribe('news');
    b!.peer.subscribe('sport');
    c!.peer.subscribe('sport');
    assert.equal(server.wss.subscriberCount('news'), 2);
    assert.equal(server.wss.subscriberCount('sport'), 2);
    assert.equal(server.wss.subscriberCount('none'), 0);
    assert.deepEqual([...b!.peer.topics].sort(), ['news', 'sport']);

    const logs = [a, b, c].map((p, i) => collectMessages(p!.client, [2, 5, 2][i]!));
    assert.equal(server.wss.publish('news', 'hello'), 2);
    assert.equal(server.wss.publish('sport', Buffer.from([1, 2])), 2);
    assert.equal(server.wss.publish('news', 'as binary', { binary: true, except: a!.peer }), 1);
    assert.equal(server.wss.publish('nobody', 'lost'), 0);
    assert.equal(server.wss.publish('news', new Uint8Array([7]).buffer), 2);
    assert.equal(server.wss.publish('sport', 'end'), 2);
    const [la, lb, lc] = await Promise.all(logs);
    const binaryText = `bin:${Buffer.from('as binary').toString('hex')}`;
    assert.deepEqual(la!.map(show), ['text:hello', 'bin:07']);
    assert.deepEqual(lb!.map(show), ['text:hello', 'bin:0102', binaryText, 'bin:07', 'text:end']);
    assert.deepEqual(lc!.map(show), ['bin:0102', 'text:end']);
  });

  it('unsubscribe stops delivery; a closed socket leaves all its topics', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const [a, b] = await peers(env, server, 2);
    a!.peer.subscribe('x');
    a!.peer.subscribe('y');
    b!.peer.subscribe('x');
    assert.equal(a!.peer.unsubscribe('y'), true);
    assert.equal(a!.peer.unsubscribe('y'), false);
    assert.equal(server.wss.subscriberCount('y'), 0);
    const first = nextEvent(b!.client, 'message');
    assert.equal(server.wss.publish('y', 'nobody'), 0);
    assert.equal(server.wss.publish('x', 'both'), 2);
    assert.equal((await first).data, 'both');

    const closed = nextEvent(a!.peer, 'close');
    a!.client.close();
    await closed;
    assert.equal(server.wss.subscriberCount('x'), 1);
    assert.deepEqual([...a!.peer.topics], []);
    assert.equal(a!.peer.subscribe('x'), false, 'a closed socket cannot subscribe');
    assert.equal(server.wss.publish('x', 'one left'), 1);
  });

  it('sockets leave their topics on close also without client tracking', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server({ clientTracking: false });
    const [a] = await peers(env, server, 1);
    a!.peer.subscribe('x');
    const closed = nextEvent(a!.peer, 'close');
    a!.client.close();
    await closed;
    assert.equal(server.wss.subscriberCount('x'), 0);
  });

  it('keeps order with send() and rejects bad topics and client sockets', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const [a] = await peers(env, server, 1);
    a!.peer.subscribe('t');
    const log = collectMessages(a!.client, 3);
    a!.peer.send('1');
    server.wss.publish('t', '2');
    a!.peer.send('3');
    assert.deepEqual(await log, ['1', '2', '3']);
    assert.throws(() => a!.peer.subscribe(''), { code: 'ERR_WS_INVALID_ARGUMENT' });
    assert.throws(() => server.wss.publish('x'.repeat(2000), 'a'), WebSocketError);
    assert.throws(() => a!.client.subscribe('t'), { code: 'ERR_WS_UNSUPPORTED_OPERATION' });
  });
});

describe('topics with permessage-deflate', () => {
  async function rawDeflateClient(env: Scope, port: number, offer: string) {
    const reader = await env.rawClient(port);
    reader.socket.write(
      upgradeRequest({ key: makeKey(), extra: [['Sec-WebSocket-Extensions', offer]] }),
    );
    const head = await reader.readHead();
    assert.equal(head.status, 101);
    return reader;
  }

  it(
    'writes one compressed frame to every socket without server context takeover',
    T,
    async (t) => {
      const env = new Scope(t);
      const server = await env.server({
        perMessageDeflate: { serverNoContextTakeover: true, threshold: 16 },
      });
      const joined: WebSocket[] = [];
      server.wss.on('connection', (ws) => {
        ws.subscribe('room');
        joined.push(ws);
      });
      const r1 = await rawDeflateClient(env, server.port, 'permessage-deflate');
      const r2 = await rawDeflateClient(env, server.port, 'permessage-deflate');
      const client = await env.open(server.url, [], { perMessageDeflate: true });
      while (joined.length < 3) await nextEmit(server.wss, 'connection');
      const text = 'a message long enough to be compressed, '.repeat(8);
      const got = collectMessages(client, 2);
      assert.equal(server.wss.publish('room', text), 3);
      assert.equal(server.wss.publish('room', 'short'), 3);
      const [f1, f2] = [await r1.readFrame(), await r2.readFrame()];
      assert.equal(f1.rsv1, true, 'RSV1: compressed');
      assert.deepEqual(f1.payload, f2.payload, 'the same bytes to both');
      const tail = Buffer.from([0x00, 0x00, 0xff, 0xff]);
      assert.equal(
        inflateRawSync(Buffer.concat([f1.payload, tail]), {
          finishFlush: constants.Z_SYNC_FLUSH,
        }).toString(),
        text,
      );
      const [s1, s2] = [await r1.readFrame(), await r2.readFrame()];
      assert.deepEqual(
        [s1.rsv1, s1.rsv2, s1.rsv3],
        [false, false, false],
        'under the threshold: not compressed',
      );
      assert.equal(s2.payload.toString(), 'short');
      assert.deepEqual(await got, [text, 'short']);
    },
  );

  it(
    'broadcast() compresses as publish() does: one shared frame, except and filter',
    T,
    async (t) => {
      const env = new Scope(t);
      const server = await env.server({
        perMessageDeflate: { serverNoContextTakeover: true, threshold: 16 },
      });
      const r1 = await rawDeflateClient(env, server.port, 'permessage-deflate');
      const r2 = await rawDeflateClient(env, server.port, 'permessage-deflate');
      const plain = await env.open(server.url, [], { perMessageDeflate: false });
      while (server.wss.clients.size < 3) await nextEmit(server.wss, 'connection');
      const text = 'a broadcast long enough to be compressed, '.repeat(8);
      const plainGot = collectMessages(plain, 1);
      assert.equal(server.wss.broadcast(text), 3);
      const [f1, f2] = [await r1.readFrame(), await r2.readFrame()];
      assert.equal(f1.rsv1, true, 'RSV1: compressed');
      assert.deepEqual(f1.payload, f2.payload, 'one compression for both');
      assert.deepEqual(await plainGot, [text], 'a client without the extension gets it plain');
      const compressing = [...server.wss.clients].filter((ws) => ws.extensions !== '');
      assert.equal(compressing.length, 2);
      const filtered = server.wss.broadcast('x'.repeat(40), {
        except: compressing[0]!,
        filter: (ws) => ws.extensions !== '',
      });
      assert.equal(filtered, 1, 'except and filter both apply');
      assert.throws(() => server.wss.broadcast(42 as never), /broadcast\(\) takes a string/);
    },
  );

  it('compresses per socket when the server keeps its context', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server({ perMessageDeflate: { threshold: 0 } });
    server.wss.on('connection', (ws) => ws.subscribe('room'));
    const clients = [
      await env.open(server.url, [], { perMessageDeflate: true }),
      await env.open(server.url, [], { perMessageDeflate: true }),
    ];
    while (server.wss.subscriberCount('room') < 2) await nextEmit(server.wss, 'connection');
    const logs = clients.map((c) => collectMessages(c, 3));
    const text = 'repeated text repeated text repeated text';
    for (let i = 0; i < 3; i++) assert.equal(server.wss.publish('room', `${text} ${i}`), 2);
    for (const log of await Promise.all(logs))
      assert.deepEqual(
        log,
        [0, 1, 2].map((i) => `${text} ${i}`),
      );
  });
});

describe('InProcessBroker', () => {
  it('carries publishes between servers of one process, only where subscribed', T, async (t) => {
    const env = new Scope(t);
    const broker = new InProcessBroker();
    const s1 = await env.server({ broker });
    const s2 = await env.server({ broker });
    const s3 = await env.server({ broker });
    const [a] = await peers(env, s1, 1);
    const [b] = await peers(env, s2, 1);
    const [c] = await peers(env, s3, 1);
    a!.peer.subscribe('chat');
    b!.peer.subscribe('chat');
    c!.peer.subscribe('other');
    await s1.wss.brokerReady();
    const la = collectMessages(a!.client, 2);
    const lb = collectMessages(b!.client, 3);
    let cGot = 0;
    c!.client.addEventListener('message', () => cGot++);
    assert.equal(s1.wss.publish('chat', 'from 1', { except: a!.peer }), 0);
    assert.equal(s2.wss.publish('chat', 'from 2'), 1);
    assert.equal(s3.wss.publish('chat', 'from 3'), 0);
    assert.deepEqual(await la, ['from 2', 'from 3']);
    assert.deepEqual(await lb, ['from 1', 'from 2', 'from 3']);
    assert.equal(cGot, 0);
  });

  it('refuses publishes from a closed server with a typed error', T, async (t) => {
    const env = new Scope(t);
    const broker = new InProcessBroker();
    const s1 = await env.server({ broker });
    await new Promise<void>((resolve) => s1.wss.close(() => resolve()));
    assert.throws(
      () => s1.wss.publish('chat', 'late'),
      (error: unknown) => {
        assert.ok(error instanceof BrokerError);
        assert.equal(error.code, 'ERR_WS_BROKER_CLOSED');
        return true;
      },
    );
  });
});
