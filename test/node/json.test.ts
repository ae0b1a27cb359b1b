/** The JSON helpers of the Node WebSocket: sendJSON() and json() iteration. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketError, WebSocketServer } from '../../src/index.js';

describe('JSON helpers (Node)', { timeout: 20_000 }, () => {
  let wss: WebSocketServer;
  let url: string;

  before(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((done) => wss.on('listening', () => done()));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (socket) => {
      socket.onmessage = (event) => socket.send(event.data as string);
    });
  });

  after(() => new Promise<void>((done) => wss.close(() => done())));

  it('sends JSON text and iterates parsed values', async () => {
    const ws = await WebSocket.connect(url);
    const values = ws.json();
    ws.sendJSON({ a: [1, 'two'] });
    ws.sendJSON(null);
    assert.deepEqual((await values.next()).value, { a: [1, 'two'] });
    assert.equal((await values.next()).value, null);
    ws.send('not json');
    await assert.rejects(values.next(), (e: unknown) => {
      assert.ok(e instanceof WebSocketError);
      assert.equal(e.code, 'ERR_WS_INVALID_ARGUMENT');
      assert.match(e.message, /not valid JSON.*"not json"/);
      return true;
    });
    ws.close();
  });

  it('refuses values JSON cannot carry', async () => {
    const ws = await WebSocket.connect(url);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const value of [undefined, () => 1, 10n, cycle]) {
      assert.throws(
        () => ws.sendJSON(value),
        (e: unknown) => e instanceof WebSocketError && e.code === 'ERR_WS_INVALID_ARGUMENT',
      );
    }
    ws.close();
  });
});
