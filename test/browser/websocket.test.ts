/**
 * wskit's core `WebSocket` in Chromium (the `browser` build of the `wskit` entry, here loaded
 * from dist/esm/browser/index.js) against wskit servers: the standard API, typed errors,
 * iteration, JSON helpers, the heartbeat by messages, and reconnection across a server restart.
 * Needs `npm run build` first.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { WebSocketServer } from '../../src/index.js';
import { closedPort } from '../support/ports.js';
import { browserSkipReason } from './chromium.js';
import { suitePage } from './harness.js';

type CoreModule = typeof import('../../src/browser/index.js');

const BUILT = resolve(
  import.meta.dirname ?? new URL('.', import.meta.url).pathname,
  '../../dist/esm/browser/index.js',
);
const skip =
  browserSkipReason ?? (existsSync(BUILT) ? undefined : `${BUILT} is missing: run npm run build`);
const MODULE = '/dist/esm/browser/index.js';

/** A standalone wskit server on 127.0.0.1:`port` (0: any free port). */
async function listen(port: number): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ port, host: '127.0.0.1' });
  await new Promise<void>((done, fail) => {
    wss.once('listening', () => done());
    wss.once('error', fail);
  });
  return wss;
}

function closeServer(wss: WebSocketServer): Promise<void> {
  return new Promise<void>((done) => wss.close(() => done()));
}

function portOf(wss: WebSocketServer): number {
  return (wss.address() as AddressInfo).port;
}

describe('core WebSocket in Chromium', { skip, timeout: 90_000 }, () => {
  const chromium = suitePage({ nameHelper: true });

  it('exports the core API without a server, over the native WebSocket', async () => {
    const result = await chromium.page.evaluate(async (path) => {
      const m = (await import(path)) as CoreModule;
      return {
        exports: Object.keys(m).sort(),
        constants: [
          m.WebSocket.CONNECTING,
          m.WebSocket.OPEN,
          m.WebSocket.CLOSING,
          m.WebSocket.CLOSED,
        ],
        nativeUntouched: globalThis.WebSocket !== (m.WebSocket as unknown),
      };
    }, MODULE);
    for (const name of ['WebSocket', 'WebSocketError', 'ConnectionError', 'CloseCode']) {
      assert.ok(result.exports.includes(name), name);
    }
    assert.ok(!result.exports.includes('WebSocketServer'));
    assert.deepEqual(result.constants, [0, 1, 2, 3]);
    assert.equal(result.nativeUntouched, true);
  });

  it('echoes text and binary, then closes cleanly with the code and reason', async () => {
    const result = await chromium.page.evaluate(
      async ([path, url]) => {
        const m = (await import(path!)) as CoreModule;
        const ws = await m.WebSocket.connect(url!);
        const states = [ws.readyState];
        ws.binaryType = 'arraybuffer';
        const next = () =>
          new Promise<unknown>((done) => {
            ws.onmessage = (event) => done(event.data);
          });
        let reply = next();
        ws.send('hello ✓');
        const text = await reply;
        reply = next();
        ws.send(new Uint8Array([1, 2, 255]));
        const bytes = Array.from(new Uint8Array((await reply) as ArrayBuffer));
        const closed = await new Promise<{ code: number; reason: string; wasClean: boolean }>(
          (done) => {
            ws.onclose = (e) => done({ code: e.code, reason: e.reason, wasClean: e.wasClean });
            ws.close(4000, 'bye');
            states.push(ws.readyState);
          },
        );
        states.push(ws.readyState);
        let invalid = '';
        try {
          ws.close(1001);
        } catch (error) {
          invalid = (error as DOMException).name;
        }
        return { text, bytes, closed, states, url: ws.url, invalid };
      },
      [MODULE, chromium.harness.echoUrl.replace('ws:', 'http:')] as const,
    );
    assert.equal(result.text, 'hello ✓');
    assert.deepEqual(result.bytes, [1, 2, 255]);
    // The event carries the peer's close frame: the wskit server echoes the code only.
    assert.deepEqual(result.closed, { code: 4000, reason: '', wasClean: true });
    assert.deepEqual(result.states, [1, 2, 3]);
    assert.equal(result.url, chromium.harness.echoUrl);
    assert.equal(result.invalid, 'InvalidAccessError');
  });

  it('rejects connect() with a typed error when nothing listens', async () => {
    const port = await closedPort();
    const result = await chromium.page.evaluate(
      async ([path, url]) => {
        const m = (await import(path!)) as CoreModule;
        const error = await m.WebSocket.connect(url!).then(
          () => null,
          (e: unknown) => e,
        );
        return {
          typed: error instanceof m.ConnectionError && error instanceof m.WebSocketError,
          code: (error as InstanceType<typeof m.WebSocketError>).code,
          message: (error as Error).message,
          socketError: m.socketErrorOf(error),
        };
      },
      [MODULE, `ws://127.0.0.1:${port}/`] as const,
    );
    assert.equal(result.typed, true);
    assert.equal(result.code, 'ERR_WS_NETWORK');
    assert.match(result.message, /could not connect to ws:\/\/127\.0\.0\.1/);
    assert.equal(result.socketError, 7);
  });

  it('iterates messages and JSON values until the server closes', async () => {
    const wss = await listen(0);
    wss.on('connection', (socket) => {
      socket.onmessage = (event) => {
        const { count } = JSON.parse(event.data as string) as { count: number };
        for (let i = 0; i < count; i++) socket.send(JSON.stringify({ i }));
        socket.close(1000, 'done');
      };
    });
    try {
      const result = await chromium.page.evaluate(
        async ([path, url]) => {
          const m = (await import(path!)) as CoreModule;
          const plain: unknown[] = [];
          let ws = await m.WebSocket.connect(url!);
          ws.sendJSON({ count: 3 });
          for await (const data of ws) plain.push(data);
          const parsed: unknown[] = [];
          ws = await m.WebSocket.connect(url!);
          ws.sendJSON({ count: 2 });
          for await (const value of ws.json()) parsed.push(value);
          let refused = '';
          try {
            ws.sendJSON(undefined);
          } catch (error) {
            refused = (error as InstanceType<typeof m.WebSocketError>).code;
          }
          return { plain, parsed, refused };
        },
        [MODULE, `ws://127.0.0.1:${portOf(wss)}/`] as const,
      );
      assert.deepEqual(result.plain, ['{"i":0}', '{"i":1}', '{"i":2}']);
      assert.deepEqual(result.parsed, [{ i: 0 }, { i: 1 }]);
      assert.equal(result.refused, 'ERR_WS_INVALID_ARGUMENT');
    } finally {
      await closeServer(wss);
    }
  });

  it('keeps a connection whose peer answers the heartbeat, drops one that does not', async () => {
    const wss = await listen(0);
    let heartbeats = 0;
    let reachedThree: () => void = () => {};
    const threeSeen = new Promise<void>((done) => {
      reachedThree = done;
    });
    wss.on('connection', (socket, request) => {
      // /answer echoes every message; /silent reads and never answers.
      if (request.url !== '/answer') return;
      socket.onmessage = (event) => {
        if (event.data === 'hb' && ++heartbeats === 3) reachedThree();
        socket.send(event.data as string);
      };
    });
    const base = `ws://127.0.0.1:${portOf(wss)}`;
    try {
      await chromium.page.evaluate(
        async ([path, url]) => {
          const m = (await import(path!)) as CoreModule;
          const ws = await m.WebSocket.connect(url!, {
            heartbeat: { interval: 50, timeout: 2000, message: 'hb' },
          });
          const errors: string[] = [];
          ws.onerror = (e) => errors.push(String(e.message));
          (globalThis as Record<string, unknown>).answered = { ws, errors };
        },
        [MODULE, `${base}/answer`] as const,
      );
      await threeSeen;
      const alive = await chromium.page.evaluate(() => {
        const { ws, errors } = (globalThis as Record<string, unknown>).answered as {
          ws: { readyState: number; close(): void };
          errors: string[];
        };
        const state = ws.readyState;
        ws.close();
        return { state, errors };
      });
      assert.deepEqual(alive, { state: 1, errors: [] });

      const dead = await chromium.page.evaluate(
        async ([path, url]) => {
          const m = (await import(path!)) as CoreModule;
          const ws = await m.WebSocket.connect(url!, {
            heartbeat: { interval: 50, timeout: 100 },
          });
          const events: string[] = [];
          return new Promise<string[]>((done) => {
            ws.onerror = (e) =>
              events.push(`error ${(e.error as InstanceType<typeof m.WebSocketError>).code}`);
            ws.onclose = (e) => {
              events.push(`close ${e.code} ${e.wasClean} ${ws.readyState}`);
              done(events);
            };
          });
        },
        [MODULE, `${base}/silent`] as const,
      );
      assert.deepEqual(dead, ['error ERR_WS_TIMEOUT', 'close 1006 false 3']);
    } finally {
      await closeServer(wss);
    }
  });

  it('queues while the server restarts, reconnects, and sends the queue first', async () => {
    let wss = await listen(0);
    const port = portOf(wss);
    const url = `ws://127.0.0.1:${port}/`;
    try {
      await chromium.page.evaluate(
        async ([path, target]) => {
          const m = (await import(path!)) as CoreModule;
          const events: string[] = [];
          const ws = new m.WebSocket(target!, [], {
            reconnect: { minDelay: 20, maxDelay: 100, jitter: 0 },
          });
          let opens = 0;
          let reopened: () => void = () => {};
          const state = {
            ws,
            events,
            reopened: new Promise<void>((done) => {
              reopened = done;
            }),
            reconnecting: null as Promise<void> | null,
          };
          state.reconnecting = new Promise<void>((done) => {
            ws.addEventListener('reconnecting', (e) => {
              events.push(`reconnecting ${e.attempt}`);
              done();
            });
          });
          ws.onopen = () => {
            events.push('open');
            if (++opens === 2) reopened();
          };
          ws.onclose = (e) => events.push(`close ${e.code} ${ws.readyState}`);
          (globalThis as Record<string, unknown>).restart = state;
          await new Promise<void>((done) => ws.addEventListener('open', () => done()));
        },
        [MODULE, url] as const,
      );
      // The server goes away (clients get 1001) and the client starts retrying.
      await closeServer(wss);
      const queued = await chromium.page.evaluate(async () => {
        const state = (globalThis as Record<string, unknown>).restart as {
          ws: { readyState: number; bufferedAmount: number; send(data: string): void };
          reconnecting: Promise<void>;
        };
        await state.reconnecting;
        state.ws.send('first');
        state.ws.send('second');
        return { readyState: state.ws.readyState, buffered: state.ws.bufferedAmount };
      });
      assert.deepEqual(queued, { readyState: 0, buffered: 11 });

      wss = await listen(port);
      const received = new Promise<string[]>((done) => {
        wss.on('connection', (socket) => {
          const messages: string[] = [];
          socket.onmessage = (event) => {
            messages.push(event.data as string);
            if (messages.length === 2) done(messages);
          };
        });
      });
      assert.deepEqual(await received, ['first', 'second']);
      const events = await chromium.page.evaluate(async () => {
        const state = (globalThis as Record<string, unknown>).restart as {
          ws: { readyState: number; close(): void };
          events: string[];
          reopened: Promise<void>;
        };
        await state.reopened;
        const readyState = state.ws.readyState;
        state.ws.close();
        return { readyState, events: state.events };
      });
      assert.equal(events.readyState, 1);
      // Attempts made while the server was down add further "reconnecting" events.
      const seen = events.events.filter((e, i, all) => i === 0 || e !== all[i - 1]);
      assert.deepEqual(seen.slice(0, 3), ['open', 'close 1001 0', 'reconnecting 1']);
      assert.equal(events.events.at(-1), 'open');
      assert.equal(events.events.filter((e) => e.startsWith('close')).length, 1);
    } finally {
      await closeServer(wss);
    }
  });

  it('bounds the queue and reports what was never sent when closed between attempts', async () => {
    const port = await closedPort();
    const result = await chromium.page.evaluate(
      async ([path, url]) => {
        const m = (await import(path!)) as CoreModule;
        const ws = new m.WebSocket(url!, [], {
          reconnect: { minDelay: 20, maxDelay: 50, queueLimit: 2 },
        });
        ws.send('a');
        ws.send('b');
        let full = '';
        try {
          ws.send('c');
        } catch (error) {
          full = (error as InstanceType<typeof m.WebSocketError>).code;
        }
        const events: string[] = [];
        await new Promise<void>((done) =>
          ws.addEventListener('reconnecting', () => done(), { once: true }),
        );
        return new Promise<{ full: string; events: string[] }>((done) => {
          ws.onerror = (e) => events.push((e.error as InstanceType<typeof m.WebSocketError>).code);
          ws.onclose = (e) => {
            events.push(`close ${e.code} ${ws.readyState}`);
            done({ full, events });
          };
          ws.close();
          events.push(`closing ${ws.readyState}`);
        });
      },
      [MODULE, `ws://127.0.0.1:${port}/`] as const,
    );
    assert.equal(result.full, 'ERR_WS_QUEUE_FULL');
    assert.deepEqual(result.events, ['closing 2', 'ERR_WS_NOT_SENT', 'close 1006 3']);
  });
});
