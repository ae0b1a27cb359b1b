/**
 * wskit/ws never accepts an option it would not honour: unknown, misplaced and unsupported
 * options are a TypeError that names them (ws itself ignores unknown options).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket, { WebSocketServer } from '../../src/ws.js';

const T = { timeout: 10_000 } as const;
type AnyOptions = ConstructorParameters<typeof WebSocketServer>[0] & Record<string, unknown>;

test('an unknown client option is a TypeError naming it', T, () => {
  assert.throws(
    () => new WebSocket('ws://127.0.0.1:1', { reconnect: true } as object),
    (e: Error) => e instanceof TypeError && /"reconnect"/.test(e.message),
  );
});

test('a server option given to a client says so', T, () => {
  assert.throws(
    () => new WebSocket('ws://127.0.0.1:1', { verifyClient: () => true } as object),
    (e: Error) =>
      e instanceof TypeError && /"verifyClient" is a WebSocketServer option/.test(e.message),
  );
});

test('an unknown or client-side server option is a TypeError naming it', T, () => {
  assert.throws(
    () => new WebSocketServer({ noServer: true, authenticate: () => true } as AnyOptions),
    (e: Error) => e instanceof TypeError && /"authenticate"/.test(e.message),
  );
  assert.throws(
    () => new WebSocketServer({ noServer: true, followRedirects: true } as AnyOptions),
    (e: Error) => e instanceof TypeError && /"followRedirects" is a client/.test(e.message),
  );
});

test('ws options wskit cannot honour are refused, with what to do instead', T, () => {
  for (const options of [
    { generateMask: () => {} },
    { maxFragments: 10 },
    { maxBufferedChunks: 10 },
    { allowSynchronousEvents: false },
  ]) {
    const name = Object.keys(options)[0]!;
    assert.throws(
      () => new WebSocket('ws://127.0.0.1:1', options as object),
      (e: Error) => e instanceof TypeError && e.message.includes(`"${name}"`),
    );
  }
  assert.throws(
    () =>
      new WebSocketServer({
        noServer: true,
        perMessageDeflate: { zlibDeflateOptions: { windowBits: 10 } as object },
      }),
    (e: Error) => e instanceof TypeError && /windowBits/.test(e.message),
  );
  assert.throws(
    () => new WebSocketServer({ noServer: true, perMessageDeflate: { clientMaxWindowBits: 8 } }),
    RangeError,
  );
});

test('every ws option that is honoured is accepted', T, () => {
  const server = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: 1024,
    skipUTF8Validation: true,
    autoPong: false,
    closeTimeout: 1000,
    perMessageDeflate: {
      threshold: 0,
      serverNoContextTakeover: true,
      zlibDeflateOptions: { level: 1 },
    },
    handleProtocols: () => false,
    verifyClient: () => true,
    path: '/x',
    allowSynchronousEvents: true,
  });
  assert.equal(server.clients, undefined);
  server.close();
});
