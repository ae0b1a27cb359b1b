/**
 * The browser builds of the three dialects under what issue 10 asks (Chromium over its native
 * WebSocket, against local wskit servers): one Qt number per failure, identical in InCore and
 * Overte; unusable URLs reported, not thrown; exceptions in user code reported with `reportError`
 * while the connection keeps working; Qt's close codes; 4D's case-insensitive dataType, URL as
 * given and inspectable objects; read-only enums.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { closedPort } from '../support/ports.js';
import { browserSkipReason, launchChromium } from './chromium.js';
import { type BrowserHarness, startHarness } from './harness.js';

type Overte = typeof import('../../src/browser/overte.js');
type InCore = typeof import('../../src/browser/incore.js');
type FourD = typeof import('../../src/browser/4d.js');

const OVERTE = '/dist/esm/browser/overte.js';
const INCORE = '/dist/esm/browser/incore.js';
const FOURD = '/dist/esm/browser/4d.js';

describe('dialects in Chromium: issue 10', { skip: browserSkipReason, timeout: 90_000 }, () => {
  let browser: Browser;
  let page: Page;
  let harness: BrowserHarness;
  let refusing: BrowserHarness;

  before(async () => {
    harness = await startHarness();
    refusing = await startHarness({ authenticate: () => ({ status: 403, body: 'no' }) });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(harness.pageUrl);
    // tsx names the functions declared inside page.evaluate() with a helper the page lacks.
    await page.evaluate('globalThis.__name = (f) => f');
  });

  after(async () => {
    await browser?.close();
    await harness?.close();
    await refusing?.close();
  });

  it('one Qt number per failure, the same in InCore and Overte: refused 0, refused upgrade 0, scheme 10, invalid URL 0', async () => {
    const port = await closedPort();
    const cases = [
      `ws://127.0.0.1:${port}/`,
      refusing.echoUrl,
      'ftp://example.org/',
      'ws://exa mple.org/',
    ];
    const result = await page.evaluate(
      async ({ overtePath, incorePath, urls }) => {
        const overte = (await import(overtePath)) as Overte;
        const incore = (await import(incorePath)) as InCore;
        const viaOverte = (url: string) =>
          new Promise<Array<number | string>>((resolve) => {
            const seen: Array<number | string> = [];
            const ws = new overte.WebSocket(url);
            ws.onerror = (n) => seen.push(n);
            ws.onclose = (data) => {
              seen.push(`close ${data.code}`);
              resolve(seen);
            };
          });
        const viaInCore = (url: string) =>
          new Promise<number[]>((resolve) => {
            const seen: number[] = [];
            const ws = new incore.WebSocket({ url, autoConnect: false });
            ws.ipSocketErrorOccurred.connect((n: number) => {
              seen.push(n);
              resolve(seen);
            });
            ws.connectToHost();
          });
        const out: Array<{ overte: Array<number | string>; incore: number[] }> = [];
        for (const url of urls)
          out.push({ overte: await viaOverte(url), incore: await viaInCore(url) });
        return out;
      },
      { overtePath: OVERTE, incorePath: INCORE, urls: cases },
    );
    assert.deepEqual(result, [
      { overte: [0, 'close 1006'], incore: [0] },
      { overte: [0, 'close 1006'], incore: [0] },
      { overte: [10, 'close 1006'], incore: [10] },
      { overte: [0, 'close 1006'], incore: [0] },
    ]);
  });

  it('Overte: send() before open does not throw; close(1001) and a long reason do not throw; user exceptions go to reportError', async () => {
    const result = await page.evaluate(
      async ({ path, url }) => {
        const m = (await import(path)) as Overte;
        const reported: string[] = [];
        const onError = (event: ErrorEvent) => {
          reported.push((event.error as Error).message);
          event.preventDefault();
        };
        window.addEventListener('error', onError);
        const ws = new m.WebSocket(url);
        let threw = false;
        try {
          ws.send('too early');
        } catch {
          threw = true;
        }
        const received: unknown[] = [];
        await new Promise<void>((resolve) => {
          ws.onopen = () => {
            ws.send('one');
            throw new Error('boom in onopen');
          };
          ws.onmessage = (message) => {
            received.push(message.data);
            if (message.data === 'one') {
              ws.send('two');
              throw new Error('boom in onmessage');
            }
            resolve();
          };
        });
        const closed = await new Promise<{ code: number; wasClean: boolean }>((resolve) => {
          ws.onclose = (data) => resolve(data);
          ws.close(m.CloseCode.GoingAway, 'é'.repeat(100));
        });
        window.removeEventListener('error', onError);
        // Page code here is sloppy mode: the assignment is ignored rather than thrown.
        (m.WebSocket as unknown as Record<string, number>).OPEN = 9;
        const frozen = m.WebSocket.OPEN === 1 && Object.isFrozen(m.CloseCode);
        return { threw, received, reported, closed, frozen };
      },
      { path: OVERTE, url: harness.echoUrl },
    );
    assert.equal(result.threw, false);
    assert.deepEqual(result.received, ['one', 'two']);
    assert.deepEqual(result.reported, ['boom in onopen', 'boom in onmessage']);
    // A page may not send 1001: the dialect closes with 1000 instead of throwing.
    assert.deepEqual(result.closed, { code: 1000, reason: '', wasClean: true });
    assert.equal(result.frozen, true);
  });

  it('InCore: a misspelt handler is refused by name; a throwing handler goes to reportError and the connection carries on', async () => {
    const result = await page.evaluate(
      async ({ path, url }) => {
        const m = (await import(path)) as InCore;
        let refused = '';
        try {
          new m.WebSocket({ url, onconnected: () => {} } as never);
        } catch (error) {
          refused = (error as Error).message;
        }
        const reported: string[] = [];
        const onError = (event: ErrorEvent) => {
          reported.push((event.error as Error).message);
          event.preventDefault();
        };
        window.addEventListener('error', onError);
        const received: string[] = [];
        await new Promise<void>((resolve) => {
          const ws = new m.WebSocket({
            url,
            onConnected() {
              this.sendTextMessage('one');
            },
            onTextMessageReceived(message: string) {
              received.push(message);
              if (message === 'one') {
                this.sendTextMessage('two');
                throw new Error('boom in onTextMessageReceived');
              }
              this.autoConnect = false;
              this.disconnectFromHost();
              resolve();
            },
          });
          void ws;
        });
        window.removeEventListener('error', onError);
        return { refused, received, reported, frozen: Object.isFrozen(m.State) };
      },
      { path: INCORE, url: harness.echoUrl },
    );
    assert.match(result.refused, /did you mean "onConnected"/);
    assert.deepEqual(result.received, ['one', 'two']);
    assert.deepEqual(result.reported, ['boom in onTextMessageReceived']);
    assert.equal(result.frozen, true);
  });

  it('4D: dataType in any case, url as given, inspectable, a throwing callback goes to reportError', async () => {
    const result = await page.evaluate(
      async ({ path, url }) => {
        const m = (await import(path)) as FourD;
        const reported: string[] = [];
        const onError = (event: ErrorEvent) => {
          reported.push((event.error as Error).message);
          event.preventDefault();
        };
        window.addEventListener('error', onError);
        const received: unknown[] = [];
        let keys: string[] = [];
        let json: Record<string, unknown> = {};
        let wsUrl = '';
        let dataType = '';
        await new Promise<void>((resolve) => {
          const ws = m.WebSocket.new(url, {
            dataType: 'Object' as never,
            onOpen: (socket) => {
              socket.send({ n: 1 });
              throw new Error('boom in onOpen');
            },
            onMessage: (socket, event) => {
              received.push(event.data);
              socket.terminate();
            },
            onTerminate: () => resolve(),
          });
          if (ws === null) throw new Error('null');
          keys = Object.keys(ws).sort();
          json = JSON.parse(JSON.stringify(ws));
          wsUrl = ws.url;
          dataType = ws.dataType;
        });
        window.removeEventListener('error', onError);
        return { received, reported, keys, json, wsUrl, dataType };
      },
      { path: FOURD, url: harness.echoUrl.replace('ws:', 'WS:') },
    );
    assert.deepEqual(result.received, [{ n: 1 }]);
    assert.deepEqual(result.reported, ['boom in onOpen']);
    assert.deepEqual(result.keys, ['dataType', 'handler', 'id', 'status', 'url']);
    assert.equal(result.json.status, 'Connecting');
    assert.equal(result.wsUrl, harness.echoUrl.replace('ws:', 'WS:'));
    assert.equal(result.dataType, 'object');
  });

  it('InCore: disconnected() after a failed attempt, and autoConnect reconnects after the server closes with 1001', async () => {
    const port = await closedPort();
    const failed = await page.evaluate(
      async ({ path, url }) => {
        const m = (await import(path)) as InCore;
        const states: number[] = [];
        await new Promise<void>((resolve) => {
          const ws = new m.WebSocket({ url, autoConnect: false, onDisconnected: () => resolve() });
          ws.stateChanged.connect(() => states.push(ws.state));
          ws.connectToHost();
        });
        return states;
      },
      { path: INCORE, url: `ws://127.0.0.1:${port}/` },
    );
    assert.deepEqual(failed, [0, 3]);

    // The page keeps a count of connections; the server closes the first one with 1001.
    await page.evaluate(
      async ({ path, url }) => {
        const m = (await import(path)) as InCore;
        const g = globalThis as unknown as { connects: number; incore: unknown };
        g.connects = 0;
        g.incore = new m.WebSocket({
          url,
          reconnectDelay: 10,
          onConnected: () => {
            g.connects++;
          },
        });
      },
      { path: INCORE, url: harness.echoUrl },
    );
    await page.waitForFunction(
      () => (globalThis as unknown as { connects: number }).connects === 1,
    );
    for (const client of harness.wss.clients) client.close(1001, 'restarting');
    await page.waitForFunction(
      () => (globalThis as unknown as { connects: number }).connects === 2,
    );
    const error = await page.evaluate(() => {
      const ws = (
        globalThis as unknown as {
          incore: { error: number; autoConnect: boolean; disconnectFromHost(): void };
        }
      ).incore;
      ws.autoConnect = false;
      ws.disconnectFromHost();
      return ws.error;
    });
    assert.equal(error, 0, 'a clean close by the server is not an error');
  });
});
