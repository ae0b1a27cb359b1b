/**
 * Automatic reconnection (the `reconnect` option): a fault test that kills the server mid-stream
 * and restarts it on the same port, the backoff schedule, maxRetries, the bounded send queue,
 * and what stops reconnection (close(), 1008, stopCodes) or does not (1001).
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import {
  type CloseEvent,
  ConnectionError,
  type ErrorEvent,
  type MessageEvent,
  type ReconnectEvent,
  socketErrorOf,
  WebSocket,
  WebSocketError,
  type WebSocketEvent,
} from '../../src/index.js';
import {
  countConnections,
  EventLog,
  eventWhere,
  finalClose,
  observe,
  reconnecting,
  Signal,
} from '../resilience/helpers.js';
import { closedPort } from '../support/ports.js';
import { killServer, Scope } from '../support/scope.js';
import { nextEvent } from '../support/waits.js';

const T = { timeout: 15_000 };

/** Codes of the `error` events a client fired, in order. */
function errorCodes(log: EventLog<ErrorEvent>): string[] {
  return log.events.map((e) => (e.error instanceof WebSocketError ? e.error.code : 'untyped'));
}

describe('reconnect: fault test with a server restart on the same port', () => {
  it('delivers messages queued while the server was down exactly once, in order', T, async (t) => {
    const scope = new Scope(t);
    const first = await scope.server();
    const port = first.port;
    const atFirst: string[] = [];
    const killed = new Signal<number>();
    first.wss.on('connection', (peer) => {
      peer.addEventListener('message', (event: MessageEvent) => {
        const data = String(event.data);
        atFirst.push(data);
        if (data.startsWith('live-')) peer.send(`echo:${data}`);
        // Mid-stream: the server dies after the 10th message of a burst, the rest in flight.
        if (data === 'burst-10' && !killed.done) {
          killed.resolve(performance.now());
          for (const client of first.wss.clients) client.terminate();
        }
      });
    });

    const ws = reconnecting(scope, `${first.url}/stream`, {
      minDelay: 50,
      maxDelay: 200,
      factor: 2,
      jitter: 0,
    });
    const opens = new EventLog<WebSocketEvent>(ws, 'open');
    const errors = new EventLog<ErrorEvent>(ws, 'error');
    const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
    const messages = new EventLog<MessageEvent>(ws, 'message');
    await opens.until(1);

    // A live exchange before the fault.
    for (let i = 0; i < 5; i++) ws.send(`live-${i}`);
    await messages.until(5);
    assert.deepEqual(
      messages.events.map((e) => e.data),
      [0, 1, 2, 3, 4].map((i) => `echo:live-${i}`),
    );

    // A burst; the server kills itself in the middle of it: every server-side socket is
    // destroyed (above), then the listener closes.
    const lost = nextEvent(ws, 'close');
    for (let i = 0; i < 200; i++) ws.send(`burst-${i}`);
    const killedAt = await killed.wait(5000, 'the server to die mid-stream');
    await killServer(first.wss);
    const lostEvent = await lost;
    assert.equal(lostEvent.code, 1006);
    assert.equal(lostEvent.wasClean, false);
    assert.equal(ws.readyState, WebSocket.CONNECTING, 'reconnecting, not closed');

    // Messages sent while disconnected are queued, not thrown or dropped.
    const N = 50;
    const queued = Array.from({ length: N }, (_, i) => `queued-${i}`);
    for (const message of queued) ws.send(message);
    const queuedBytes = queued.reduce((sum, m) => sum + Buffer.byteLength(m), 0);
    assert.ok(ws.bufferedAmount >= queuedBytes, 'queued messages count in bufferedAmount');

    // Let at least one attempt hit the dead port, so the restart really is a recovery.
    const refused = await eventWhere<ReconnectEvent>(ws, 'reconnecting', (e) => e.attempt >= 2);
    assert.equal(refused.error?.code, 'ERR_WS_CONNECTION_REFUSED');

    // Restart on the same port.
    const second = await scope.server({}, port);
    const restartedAt = performance.now();
    assert.equal(second.port, port);
    const atSecond: string[] = [];
    let firstDeliveryAt = 0;
    let connections = 0;
    const allArrived = new Signal();
    second.wss.on('connection', (peer) => {
      connections++;
      peer.addEventListener('message', (event: MessageEvent) => {
        if (atSecond.length === 0) firstDeliveryAt = performance.now();
        atSecond.push(String(event.data));
        if (atSecond.length === N + 1) allArrived.resolve();
      });
    });
    await opens.until(2);
    const reopenedAt = performance.now();
    assert.equal(ws.readyState, WebSocket.OPEN);
    // One more message after the queue: if anything were sent twice it would show up before it.
    ws.send('after-restart');
    await allArrived.wait(5000, 'the queued messages at the restarted server');

    assert.deepEqual(atSecond, [...queued, 'after-restart']);
    assert.equal(connections, 1);
    // The old server saw the live messages and a prefix of the burst (messages sent on a
    // connection that then died are lost with it), and nothing of the queue.
    assert.deepEqual(atFirst.slice(0, 16), [
      ...[0, 1, 2, 3, 4].map((i) => `live-${i}`),
      ...Array.from({ length: 11 }, (_, i) => `burst-${i}`),
    ]);
    assert.ok(
      atFirst.slice(5).every((m, i) => m === `burst-${i}`),
      'the burst in order, up to where it was cut',
    );
    assert.ok(
      !atFirst.some((m) => m.startsWith('queued-')),
      'nothing queued went to the old server',
    );
    assert.ok(!atSecond.some((m) => m.startsWith('burst-')), 'nothing lost was replayed');
    assert.ok(retries.count >= 2);
    assert.ok(errorCodes(errors).includes('ERR_WS_CONNECTION_REFUSED'));
    assert.ok(!errorCodes(errors).includes('ERR_WS_NOT_SENT'));

    const restartToFirst = firstDeliveryAt - restartedAt;
    const killToReconnect = reopenedAt - killedAt;
    const report =
      `reconnect: restart -> first queued message delivered ${restartToFirst.toFixed(1)} ms; ` +
      `kill -> reconnected ${killToReconnect.toFixed(1)} ms (${retries.count} reconnecting events)`;
    console.log(report);
    t.diagnostic(report);
    // With maxDelay 200 and no jitter the next attempt is at most ~200 ms away.
    assert.ok(restartToFirst < 2000, `restart -> first message took ${restartToFirst} ms`);
    ws.close();
    await finalClose(ws);
  });
});

describe('reconnect: backoff and giving up', () => {
  it('reconnecting events carry increasing attempts and delays within the bounds', T, async (t) => {
    const scope = new Scope(t);
    const port = await closedPort();
    const options = { minDelay: 20, maxDelay: 100, factor: 2, jitter: 0.5, maxRetries: 6 };
    const ws = scope.track(
      new WebSocket(`ws://127.0.0.1:${port}/`, undefined, { reconnect: options }),
    );
    const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
    const errors = new EventLog<ErrorEvent>(ws, 'error');
    const closed = await finalClose(ws);

    assert.equal(closed.code, 1006);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.deepEqual(
      retries.events.map((e) => e.attempt),
      [1, 2, 3, 4, 5, 6],
    );
    for (const event of retries.events) {
      const base = Math.min(
        options.maxDelay,
        options.minDelay * options.factor ** (event.attempt - 1),
      );
      assert.ok(
        event.delay >= Math.floor(options.minDelay * (1 - options.jitter)) &&
          event.delay <= options.maxDelay,
        `attempt ${event.attempt}: delay ${event.delay} outside [min*(1-jitter), max]`,
      );
      assert.ok(
        event.delay >= Math.floor(base * (1 - options.jitter)) && event.delay <= base,
        `attempt ${event.attempt}: delay ${event.delay} outside [${base * (1 - options.jitter)}, ${base}]`,
      );
      assert.ok(event.error instanceof ConnectionError);
      assert.equal(event.error.code, 'ERR_WS_CONNECTION_REFUSED');
    }
    // The first attempt plus maxRetries retries, each refused; nothing was queued.
    assert.deepEqual(errorCodes(errors), Array(7).fill('ERR_WS_CONNECTION_REFUSED'));
  });

  it('without jitter the delays grow by the factor up to maxDelay', T, async (t) => {
    const scope = new Scope(t);
    const port = await closedPort();
    const ws = reconnecting(scope, `ws://127.0.0.1:${port}/`, {
      minDelay: 10,
      maxDelay: 50,
      factor: 2,
      jitter: 0,
      maxRetries: 5,
    });
    const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
    ws.addEventListener('error', () => {});
    await finalClose(ws);
    assert.deepEqual(
      retries.events.map((e) => [e.attempt, e.delay]),
      [
        [1, 10],
        [2, 20],
        [3, 40],
        [4, 50],
        [5, 50],
      ],
    );
  });

  it(
    'maxRetries exhausted: final close, CLOSED, ERR_WS_NOT_SENT for queued messages',
    T,
    async (t) => {
      const scope = new Scope(t);
      const port = await closedPort();
      const ws = reconnecting(scope, `ws://127.0.0.1:${port}/`, {
        minDelay: 10,
        maxDelay: 20,
        maxRetries: 2,
      });
      ws.send('a');
      ws.send(new Uint8Array([1, 2, 3]));
      assert.equal(ws.bufferedAmount, 4);
      const order: string[] = [];
      const errors = new EventLog<ErrorEvent>(ws, 'error');
      const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
      ws.addEventListener('error', () => order.push('error'));
      ws.addEventListener('close', () => order.push('close'));
      const closed = await finalClose(ws);

      assert.equal(ws.readyState, WebSocket.CLOSED);
      assert.equal(closed.code, 1006);
      assert.equal(closed.wasClean, false);
      assert.equal(retries.count, 2);
      const codes = errorCodes(errors);
      assert.deepEqual(codes, [
        'ERR_WS_CONNECTION_REFUSED',
        'ERR_WS_CONNECTION_REFUSED',
        'ERR_WS_CONNECTION_REFUSED',
        'ERR_WS_NOT_SENT',
      ]);
      const notSent = errors.events.at(-1)!.error;
      assert.ok(notSent instanceof WebSocketError);
      assert.match(notSent.message, /\b2 message/);
      assert.equal(socketErrorOf(notSent), 19);
      assert.deepEqual(order.slice(-2), ['error', 'close'], 'ERR_WS_NOT_SENT comes before close');
      assert.equal(ws.bufferedAmount, 0, 'dropped messages no longer count as buffered');
    },
  );

  it('maxRetries 0: no retry at all', T, async (t) => {
    const scope = new Scope(t);
    const port = await closedPort();
    const ws = reconnecting(scope, `ws://127.0.0.1:${port}/`, { maxRetries: 0 });
    const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
    const errors = new EventLog<ErrorEvent>(ws, 'error');
    const closed = await finalClose(ws);
    assert.equal(closed.code, 1006);
    assert.deepEqual(errorCodes(errors), ['ERR_WS_CONNECTION_REFUSED']);
    assert.equal(retries.count, 0);
  });

  it('a full queue throws ERR_WS_QUEUE_FULL synchronously', T, async (t) => {
    const scope = new Scope(t);
    const port = await closedPort();
    const ws = reconnecting(scope, `ws://127.0.0.1:${port}/`, { minDelay: 5000, queueLimit: 3 });
    const errors = new EventLog<ErrorEvent>(ws, 'error');
    ws.send('one');
    ws.send('two');
    ws.send('six');
    let thrown: unknown;
    try {
      ws.send('four');
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof WebSocketError, 'send() threw synchronously');
    assert.equal(thrown.code, 'ERR_WS_QUEUE_FULL');
    assert.equal(socketErrorOf(thrown), 19);
    assert.equal(ws.bufferedAmount, 9, 'the refused message is not queued');
    assert.equal(ws.readyState, WebSocket.CONNECTING);

    ws.close();
    await finalClose(ws);
    const notSent = errors.events.find(
      (e) => e.error instanceof WebSocketError && e.error.code === 'ERR_WS_NOT_SENT',
    );
    assert.ok(notSent, 'close() drops the queue with ERR_WS_NOT_SENT');
    assert.match((notSent.error as Error).message, /\b3 message/);
  });
});

describe('reconnect: what stops it and what does not', () => {
  it('close() while waiting between attempts stops reconnecting', T, async (t) => {
    const scope = new Scope(t);
    let connections = 0;
    // Accepts TCP and drops it at once: every attempt fails during the handshake.
    const { port } = await scope.net((socket) => {
      connections++;
      socket.destroy();
    });
    const ws = reconnecting(scope, `ws://127.0.0.1:${port}/`, {
      minDelay: 150,
      maxDelay: 150,
      jitter: 0,
    });
    ws.addEventListener('error', () => {});
    const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
    const closes = new EventLog<CloseEvent>(ws, 'close');
    const firstRetry = (await retries.until(1))[0]!;
    assert.equal(firstRetry.delay, 150);
    assert.equal(connections, 1);
    assert.equal(ws.readyState, WebSocket.CONNECTING);

    ws.close();
    // As for any close() while connecting: CLOSING now, CLOSED with the close event.
    assert.equal(ws.readyState, WebSocket.CLOSING);
    await closes.until(1);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.equal(closes.events[0]!.code, 1006);

    // Observation window: three times the retry delay with no new attempt.
    await observe(450);
    assert.equal(connections, 1, 'no connection attempt after close()');
    assert.equal(retries.count, 1, 'no reconnecting event after close()');
    assert.equal(closes.count, 1);
  });

  it('close() inside a reconnecting listener stops and closes for good', {
    ...T,
  }, async (t) => {
    const scope = new Scope(t);
    const port = await closedPort();
    const ws = reconnecting(scope, `ws://127.0.0.1:${port}/`, { minDelay: 20 });
    const errors = new EventLog<ErrorEvent>(ws, 'error');
    ws.send('queued');
    ws.addEventListener('reconnecting', () => ws.close(), { once: true });
    const closed = await finalClose(ws, 2000);
    assert.equal(closed.code, 1006);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.ok(errorCodes(errors).includes('ERR_WS_NOT_SENT'));
  });

  it('close() inside the close listener of a retried loss closes for good', {
    ...T,
  }, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    const accepted = countConnections(server.wss, (peer) => {
      peer.close(1001, 'restarting');
    });
    const ws = reconnecting(scope, server.url, { minDelay: 20, jitter: 0 });
    const closes = new EventLog<CloseEvent>(ws, 'close');
    ws.addEventListener('close', () => ws.close(), { once: true });
    await closes.until(2, 2000);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.equal(accepted.count, 1);
  });

  it(
    'with minUptime 0 the attempt count starts over after each open (maxRetries is per loss)',
    T,
    async (t) => {
      const scope = new Scope(t);
      const server = await scope.server();
      countConnections(server.wss, (peer, n) => {
        if (n <= 3) peer.close(1001, `loss ${n}`);
      });
      const ws = reconnecting(scope, server.url, {
        minDelay: 10,
        maxDelay: 10,
        jitter: 0,
        maxRetries: 1,
        minUptime: 0,
      });
      const opens = new EventLog<WebSocketEvent>(ws, 'open');
      const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
      await opens.until(4);
      assert.deepEqual(
        retries.events.map((e) => e.attempt),
        [1, 1, 1],
      );
      assert.equal(ws.readyState, WebSocket.OPEN);
      ws.close();
      await finalClose(ws);
    },
  );

  it('close() of an open connection does not reconnect', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    const accepted = countConnections(server.wss);
    const ws = reconnecting(scope, server.url, { minDelay: 20, jitter: 0 });
    const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
    await nextEvent(ws, 'open');
    ws.close(1000, 'bye');
    const closed = await finalClose(ws);
    assert.equal(closed.code, 1000);
    assert.equal(closed.wasClean, true);
    await observe(200);
    assert.equal(retries.count, 0);
    assert.equal(accepted.count, 1);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  it('a server closing with 1008 stops reconnection', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    const accepted = countConnections(server.wss, (peer) => {
      peer.close(1008, 'policy');
    });
    const ws = reconnecting(scope, server.url, { minDelay: 20, jitter: 0 });
    const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
    const closed = await nextEvent(ws, 'close');
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, 'policy');
    assert.equal(ws.readyState, WebSocket.CLOSED, 'the close after 1008 is final');
    await observe(200);
    assert.equal(retries.count, 0);
    assert.equal(accepted.count, 1);
  });

  it('a stopCodes entry (4000) stops reconnection', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    const accepted = countConnections(server.wss, (peer) => {
      peer.close(4000, 'go away for good');
    });
    const ws = reconnecting(scope, server.url, { minDelay: 20, jitter: 0, stopCodes: [4000] });
    const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
    const closed = await nextEvent(ws, 'close');
    assert.equal(closed.code, 4000);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    await observe(200);
    assert.equal(retries.count, 0);
    assert.equal(accepted.count, 1);
  });

  it('a close code not in stopCodes (4001) reconnects', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    const accepted = countConnections(server.wss, (peer, n) => {
      if (n === 1) peer.close(4001, 'try again');
    });
    const ws = reconnecting(scope, server.url, { minDelay: 20, jitter: 0, stopCodes: [4000] });
    const opens = new EventLog<WebSocketEvent>(ws, 'open');
    const closed = await nextEvent(ws, 'close');
    assert.equal(closed.code, 4001);
    await opens.until(2);
    assert.equal(accepted.count, 2);
    ws.close();
    await finalClose(ws);
  });

  it('a normal server close with 1001 triggers a reconnect', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    const received = new Signal<string>();
    const accepted = countConnections(server.wss, (peer, n) => {
      if (n === 1) peer.close(1001, 'restarting');
      peer.addEventListener('message', (event: MessageEvent) =>
        received.resolve(String(event.data)),
      );
    });
    const ws = reconnecting(scope, server.url, { minDelay: 20, jitter: 0 });
    const opens = new EventLog<WebSocketEvent>(ws, 'open');
    const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
    let stateAtClose = -1;
    ws.addEventListener('close', () => {
      stateAtClose = ws.readyState;
    });
    const closed = await nextEvent(ws, 'close');
    assert.equal(closed.code, 1001);
    assert.equal(closed.reason, 'restarting');
    assert.equal(closed.wasClean, true);
    assert.equal(stateAtClose, WebSocket.CONNECTING, 'the close event of a retried loss');
    const retry = (await retries.until(1))[0]!;
    assert.equal(retry.attempt, 1);
    assert.equal(retry.delay, 20);
    assert.equal(retry.error, undefined, 'a clean close carries no error');
    await opens.until(2);
    assert.equal(accepted.count, 2);
    ws.send('hello again');
    assert.equal(await received.wait(5000, 'a message on the new connection'), 'hello again');
    ws.close();
    await finalClose(ws);
  });

  it('a first connection that fails is retried and succeeds once a server starts', T, async (t) => {
    const scope = new Scope(t);
    const port = await closedPort();
    const ws = reconnecting(scope, `ws://127.0.0.1:${port}/late`, {
      minDelay: 30,
      maxDelay: 100,
      jitter: 0,
    });
    const errors = new EventLog<ErrorEvent>(ws, 'error');
    const first = await nextEvent(ws, 'reconnecting');
    assert.equal(first.attempt, 1);
    assert.equal(first.error?.code, 'ERR_WS_CONNECTION_REFUSED');
    assert.equal(errorCodes(errors)[0], 'ERR_WS_CONNECTION_REFUSED');
    ws.send('sent before any server existed');

    const server = await scope.server({}, port);
    const arrived = new Signal<{ url: string; data: string }>();
    server.wss.on('connection', (peer, request) => {
      peer.addEventListener('message', (event: MessageEvent) =>
        arrived.resolve({ url: request.url ?? '', data: String(event.data) }),
      );
    });
    await nextEvent(ws, 'open');
    assert.deepEqual(await arrived.wait(5000, 'the queued message'), {
      url: '/late',
      data: 'sent before any server existed',
    });
    ws.close();
    await finalClose(ws);
  });

  it('WebSocket.connect with reconnect stays pending through refused attempts', T, async (t) => {
    const scope = new Scope(t);
    const port = await closedPort();
    let settled = false;
    const connecting = WebSocket.connect(`ws://127.0.0.1:${port}/`, {
      reconnect: { minDelay: 30, maxDelay: 60, jitter: 0 },
    });
    connecting.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    // Observation window: attempts at about 0, 30 and 90 ms are refused meanwhile.
    await observe(100);
    assert.equal(settled, false, 'refused attempts do not settle the promise');
    const server = await scope.server({}, port);
    const ws = scope.track(await connecting);
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.equal(server.wss.clients.size, 1);
    ws.close();
    await finalClose(ws);
  });

  it('without reconnect, send() while CONNECTING throws InvalidStateError', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    const ws = scope.track(new WebSocket(server.url));
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.throws(
      () => ws.send('too early'),
      (error: unknown) => error instanceof DOMException && error.name === 'InvalidStateError',
    );
    assert.equal(ws.bufferedAmount, 0);
    await nextEvent(ws, 'open');
    ws.close();
    await finalClose(ws);
  });
});

describe('reconnect: minUptime', () => {
  it(
    'a server that accepts and drops every connection is retried with growing delays',
    T,
    async (t) => {
      const scope = new Scope(t);
      const server = await scope.server();
      const accepted = countConnections(server.wss, (peer) => {
        peer.close(1001, 'dropped');
      });
      const ws = reconnecting(scope, server.url, {
        minDelay: 10,
        maxDelay: 1000,
        factor: 2,
        jitter: 0,
      });
      const opens = new EventLog<WebSocketEvent>(ws, 'open');
      const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
      await retries.until(5);
      // Every attempt opened (the server accepts), yet none stayed up the default 5000 ms.
      assert.ok(opens.count >= 5, `opens: ${opens.count}`);
      assert.deepEqual(
        retries.events.slice(0, 5).map((e) => [e.attempt, e.delay]),
        [
          [1, 10],
          [2, 20],
          [3, 40],
          [4, 80],
          [5, 160],
        ],
      );
      assert.ok(accepted.count >= 5);
      ws.close();
      await finalClose(ws);
    },
  );

  it('maxRetries counts across connections that did not stay up minUptime', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    const accepted = countConnections(server.wss, (peer) => {
      peer.close(1001, 'dropped');
    });
    const ws = reconnecting(scope, server.url, {
      minDelay: 10,
      maxDelay: 10,
      jitter: 0,
      maxRetries: 2,
    });
    const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
    const closes = new EventLog<CloseEvent>(ws, 'close');
    const final = await finalClose(ws);
    assert.equal(final.code, 1001);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.deepEqual(
      retries.events.map((e) => e.attempt),
      [1, 2],
    );
    assert.equal(closes.count, 3, 'three connections opened and were lost');
    assert.equal(accepted.count, 3);
  });

  it('a connection that stayed open minUptime starts the count over', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    // The server drops a connection when the client asks, so the client controls each uptime.
    server.wss.on('connection', (peer) => {
      peer.addEventListener('message', () => peer.close(1001, 'as asked'));
    });
    const minUptime = 1000;
    const ws = reconnecting(scope, server.url, {
      minDelay: 10,
      maxDelay: 1000,
      factor: 2,
      jitter: 0,
      minUptime,
    });
    let opens = 0;
    ws.addEventListener('open', () => {
      opens++;
      // The first two connections are dropped at once; the third only after it has certainly
      // been open longer than minUptime (a lower bound, measured from its open event).
      if (opens === 3) setTimeout(() => ws.send('drop'), minUptime + 100);
      else if (opens < 4) ws.send('drop');
    });
    const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
    await retries.until(3);
    assert.deepEqual(
      retries.events.map((e) => [e.attempt, e.delay]),
      [
        [1, 10],
        [2, 20],
        [1, 10],
      ],
    );
    ws.close();
    await finalClose(ws);
  });

  it('minUptime must be a number >= 0', () => {
    assert.throws(
      () => new WebSocket('ws://127.0.0.1:1/', undefined, { reconnect: { minUptime: -1 } }),
      (error: unknown) => error instanceof TypeError && /minUptime/.test(error.message),
    );
  });
});
