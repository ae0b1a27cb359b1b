/**
 * The InCore dialect in Chromium: the browser build (dist/esm/browser/incore.js, over the native
 * WebSocket) against the harness's wskit echo server. Needs `npm run build` first.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { closedPort } from '../support/ports.js';
import { browserSkipReason } from './chromium.js';
import { suitePage } from './harness.js';

const BUILT = resolve(
  import.meta.dirname ?? new URL('.', import.meta.url).pathname,
  '../../dist/esm/browser/incore.js',
);
const skip =
  browserSkipReason ?? (existsSync(BUILT) ? undefined : `${BUILT} is missing: run npm run build`);

/** The module the page imports; a variable so TypeScript does not try to resolve the URL. */
const MODULE = '/dist/esm/browser/incore.js';

describe('InCore dialect in Chromium', { skip, timeout: 60_000 }, () => {
  const chromium = suitePage({ nameHelper: true });

  it('runs the seed example: onConnected sends, onTextMessageReceived gets the echo', async () => {
    const result = await chromium.page.evaluate(
      async ({ echoUrl, modulePath }) => {
        const { WebSocket, State } = (await import(
          modulePath
        )) as typeof import('../../src/browser/incore.js');
        const log: string[] = [];
        const states: number[] = [];
        let ws: InstanceType<typeof WebSocket> | undefined;
        const echoed = new Promise<string>((done, fail) => {
          const timer = setTimeout(() => fail(new Error('no echo within 5 s')), 5000);
          ws = new WebSocket({
            url: echoUrl,
            onConnected: () => {
              log.push(`Connected to ${ws!.url}`);
              log.push(
                `sent ${ws!.sendTextMessage('Hello world, this is a message from InCore! ✓')}`,
              );
            },
            onTextMessageReceived: (message: string) => {
              clearTimeout(timer);
              log.push(`Received message: ${message}`);
              done(message);
            },
            onStateChanged: () => states.push(ws!.state),
          });
        });
        await echoed;
        const closed = new Promise<void>((done) => ws!.disconnected.connect(() => done()));
        ws!.disconnectFromHost();
        await closed;
        return { log, states, final: ws!.state, closedValue: State.Closed, error: ws!.error };
      },
      { echoUrl: chromium.harness.echoUrl, modulePath: MODULE },
    );
    assert.deepEqual(result.log, [
      `Connected to ${chromium.harness.echoUrl}`,
      'sent 47',
      'Received message: Hello world, this is a message from InCore! ✓',
    ]);
    assert.deepEqual(result.states, [0, 1, 2, 3]);
    assert.equal(result.final, result.closedValue);
    assert.equal(result.error, 0);
  });

  it('IoDevice: open(), write(), readAll() round trip through the echo server', async () => {
    const result = await chromium.page.evaluate(
      async ({ echoUrl, modulePath }) => {
        const { WebSocket } = (await import(
          modulePath
        )) as typeof import('../../src/browser/incore.js');
        const ws = new WebSocket({ url: echoUrl, autoConnect: false });
        const withTimeout = <T>(promise: Promise<T>, what: string) =>
          Promise.race([
            promise,
            new Promise<never>((_, fail) =>
              setTimeout(() => fail(new Error(`timed out waiting for ${what}`)), 5000),
            ),
          ]);
        const connected = new Promise<void>((done) => ws.connected.connect(() => done()));
        const opened = ws.open();
        await withTimeout(connected, 'connected');
        const line = new Promise<void>((done) => ws.lineAvailableForRead.connect(() => done()));
        const written = ws.write('line one\n');
        const bytes = ws.write(new Uint8Array([0, 255]));
        await withTimeout(line, 'lineAvailableForRead');
        await withTimeout(
          new Promise<void>((done) => {
            if (ws.bytesAvailable === 11) done();
            else ws.readyRead.connect(() => ws.bytesAvailable === 11 && done());
          }),
          'all echoed bytes',
        );
        const canReadLine = ws.canReadLine;
        const first = new TextDecoder().decode(ws.readLine());
        const rest = [...new Uint8Array(ws.readAll())];
        const atEnd = ws.atEnd;
        ws.close();
        return { opened, written, bytes, canReadLine, first, rest, atEnd, isOpen: ws.isOpen };
      },
      { echoUrl: chromium.harness.echoUrl, modulePath: MODULE },
    );
    assert.deepEqual(result, {
      opened: true,
      written: 9,
      bytes: 2,
      canReadLine: true,
      first: 'line one\n',
      rest: [0, 255],
      atEnd: true,
      isOpen: false,
    });
  });

  it('NotOpenError when sending on a closed socket', async () => {
    const result = await chromium.page.evaluate(
      async ({ modulePath }) => {
        const { WebSocket, Error: InCoreError } = (await import(
          modulePath
        )) as typeof import('../../src/browser/incore.js');
        const ws = new WebSocket({ autoConnect: false });
        let occurred = 0;
        ws.onErrorOccurred = () => occurred++;
        const text = ws.sendTextMessage('nobody listens');
        const binary = ws.sendBinaryMessage(new ArrayBuffer(4));
        return {
          text,
          binary,
          error: ws.error,
          expected: InCoreError.NotOpenError,
          errorString: ws.errorString,
          occurred,
          write: ws.write('x'),
          deviceErrorString: ws.deviceErrorString,
        };
      },
      { modulePath: MODULE },
    );
    assert.equal(result.text, -1);
    assert.equal(result.binary, -1);
    assert.equal(result.error, 2);
    assert.equal(result.expected, 2);
    assert.notEqual(result.errorString, '');
    assert.equal(result.occurred, 2);
    assert.equal(result.write, -1);
    assert.notEqual(result.deviceErrorString, '');
  });

  it('a connection error is an IpSocketError', async () => {
    const result = await chromium.page.evaluate(
      async ({ modulePath, url }) => {
        const { WebSocket } = (await import(
          modulePath
        )) as typeof import('../../src/browser/incore.js');
        const ws = new WebSocket({ url, autoConnect: false });
        const failed = new Promise<void>((done, fail) => {
          const timer = setTimeout(() => fail(new Error('no error within 5 s')), 5000);
          ws.errorOccurred.connect(() => {
            clearTimeout(timer);
            done();
          });
        });
        const socketErrors: number[] = [];
        ws.ipSocketErrorOccurred.connect((n: number) => socketErrors.push(n));
        ws.connectToHost();
        await failed;
        return { error: ws.error, state: ws.state, socketErrors, errorString: ws.errorString };
      },
      { modulePath: MODULE, url: `ws://127.0.0.1:${await closedPort()}/` },
    );
    assert.equal(result.error, 1);
    assert.equal(result.state, 3);
    assert.equal(result.socketErrors.length, 1);
    assert.notEqual(result.errorString, '');
  });
});
