/**
 * `wskit/overte` in a real browser: Chromium loads dist/esm/browser/overte.js (run `npm run build`
 * first) and talks to the harness's wskit echo server through the browser's native WebSocket.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CloseData, MessageData } from '../../src/browser/overte.js';
import { closedPort } from '../support/ports.js';
import { browserSkipReason } from './chromium.js';
import { suitePage } from './harness.js';

type OverteModule = typeof import('../../src/browser/overte.js');

/** Where the page imports the browser entry from (a variable, so TypeScript does not resolve it). */
const MODULE_PATH = '/dist/esm/browser/overte.js';

describe('wskit/overte in Chromium', { skip: browserSkipReason, timeout: 60_000 }, () => {
  const chromium = suitePage();

  it('exports WebSocket and the enums, and no WebSocketServer', async () => {
    const result = await chromium.page.evaluate(async (path) => {
      const m = (await import(path)) as OverteModule;
      return {
        exports: Object.keys(m).sort(),
        socketErrors: Object.entries(m.SocketError),
        closeNormal: m.CloseCode.Normal,
        closeTls: m.CloseCode.TlsHandshakeFailed,
        readyStates: Object.entries(m.ReadyState),
        frozen: [m.CloseCode, m.ReadyState, m.SocketError].every((e) => Object.isFrozen(e)),
        constants: [
          m.WebSocket.CONNECTING,
          m.WebSocket.OPEN,
          m.WebSocket.CLOSING,
          m.WebSocket.CLOSED,
        ],
      };
    }, MODULE_PATH);
    assert.ok(result.exports.includes('WebSocket'));
    assert.ok(!result.exports.includes('WebSocketServer'));
    assert.equal(result.socketErrors.length, 24);
    assert.deepEqual(result.socketErrors.at(-1), ['UnknownSocketError', -1]);
    assert.deepEqual(result.socketErrors[0], ['ConnectionRefusedError', 0]);
    assert.equal(result.closeNormal, 1000);
    assert.equal(result.closeTls, 1015);
    assert.deepEqual(result.readyStates, [
      ['CONNECTING', 0],
      ['OPEN', 1],
      ['CLOSING', 2],
      ['CLOSED', 3],
    ]);
    assert.equal(result.frozen, true);
    assert.deepEqual(result.constants, [0, 1, 2, 3]);
  });

  it('connects, sends a string, an object and bytes, receives { data }, closes with CloseData', async () => {
    const result = await chromium.page.evaluate(
      async ([path, echoUrl]) => {
        const m = (await import(path!)) as OverteModule;
        const ws = new m.WebSocket(echoUrl!);
        const states = [ws.readyState];
        const defaults = [ws.binaryType, ws.bufferedAmount, ws.extensions, ws.protocol];
        const openArgs = await new Promise<number | string>((resolve) => {
          ws.onopen = (...args: unknown[]) => resolve(args.length);
          ws.onerror = (error) => resolve(`error ${error}`);
        });
        states.push(ws.readyState);
        const messages: Array<{ keys: string[]; data: unknown }> = [];
        const binaries: Array<{ kind: string; bytes: number[] }> = [];
        for (const message of ['Test message', { avatar: 'Ada', position: [1, 2, 3] }]) {
          const received = await new Promise<MessageData>((resolve) => {
            ws.onmessage = (data) => resolve(data);
            ws.send(message);
          });
          messages.push({ keys: Object.keys(received), data: received.data });
        }
        for (const binaryType of ['blob', 'arraybuffer'] as const) {
          ws.binaryType = binaryType;
          const received = await new Promise<MessageData>((resolve) => {
            ws.onmessage = (data) => resolve(data);
            ws.send(new Uint8Array([1, 2, 255]));
          });
          const data = received.data;
          binaries.push({
            kind:
              data instanceof Blob
                ? 'Blob'
                : data instanceof ArrayBuffer
                  ? 'ArrayBuffer'
                  : typeof data,
            bytes: Array.from(
              new Uint8Array(
                data instanceof Blob ? await data.arrayBuffer() : (data as ArrayBuffer),
              ),
            ),
          });
        }
        const closed = await new Promise<CloseData>((resolve) => {
          ws.onclose = (data) => resolve(data);
          ws.close(4000, 'bye');
          states.push(ws.readyState);
        });
        states.push(ws.readyState);
        return { url: ws.url, states, defaults, openArgs, messages, binaries, closed };
      },
      [MODULE_PATH, chromium.harness.echoUrl] as const,
    );
    assert.equal(result.url, chromium.harness.echoUrl);
    assert.deepEqual(result.defaults, ['arraybuffer', 0, '', '']);
    assert.equal(result.openArgs, 0, 'onopen is called without arguments');
    assert.deepEqual(result.states, [0, 1, 2, 3]);
    assert.deepEqual(result.messages, [
      { keys: ['data'], data: 'Test message' },
      { keys: ['data'], data: '{"avatar":"Ada","position":[1,2,3]}' },
    ]);
    assert.deepEqual(result.binaries, [
      { kind: 'Blob', bytes: [1, 2, 255] },
      { kind: 'ArrayBuffer', bytes: [1, 2, 255] },
    ]);
    // The server answers with the same code (and no reason).
    assert.deepEqual(result.closed, { code: 4000, reason: '', wasClean: true });
  });

  it('a refused connection calls onerror with 0 (ConnectionRefusedError, as Qt), then onclose 1006', async () => {
    const port = await closedPort();
    const result = await chromium.page.evaluate(
      async ([path, url]) => {
        const m = (await import(path!)) as OverteModule;
        const ws = new m.WebSocket(url!);
        const order: Array<string | number> = [];
        const closed = await new Promise<CloseData>((resolve) => {
          ws.onerror = (error) => order.push(error);
          ws.onclose = (data) => resolve(data);
        });
        return {
          order,
          closed,
          refused: m.SocketError.ConnectionRefusedError,
          state: ws.readyState,
        };
      },
      [MODULE_PATH, `ws://127.0.0.1:${port}/`] as const,
    );
    assert.deepEqual(result.order, [result.refused]);
    assert.equal(result.refused, 0);
    assert.equal(result.closed.code, 1006);
    assert.equal(result.closed.wasClean, false);
    assert.equal(result.state, 3);
  });
});
