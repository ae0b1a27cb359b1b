/**
 * The 4D dialect's browser build (dist/esm/browser/4d.js) in Chromium over the native WebSocket,
 * against the harness's wskit echo server. `npm run build` must have run (npm test does).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { closedPort } from '../support/ports.js';
import { browserSkipReason, launchChromium } from './chromium.js';
import { type BrowserHarness, startHarness } from './harness.js';

/** The part of the browser module's API the page scripts use (the page cannot import types). */
interface PageWebSocket {
  readonly dataType: string;
  readonly handler: object;
  readonly id: number;
  readonly status: string;
  readonly url: string;
  send(message: unknown): void;
  terminate(code?: number, reason?: string): void;
}
interface PageWebSocketClass {
  new: (url: string, handler?: object) => PageWebSocket | null;
}
interface PageModule {
  WebSocket: PageWebSocketClass;
  FourD: { WebSocket: PageWebSocketClass };
}

/** Where the page loads the browser build from. */
const MODULE_PATH = '/dist/esm/browser/4d.js';

describe('4D dialect in Chromium (dist/esm/browser/4d.js)', {
  skip: browserSkipReason,
  timeout: 60_000,
}, () => {
  let harness: BrowserHarness;
  let browser: Browser;
  let page: Page;
  let refusedUrl: string;
  const args = () => ({ echoUrl: harness.echoUrl, modulePath: MODULE_PATH, refusedUrl });

  before(async () => {
    harness = await startHarness();
    refusedUrl = `ws://127.0.0.1:${await closedPort()}/`;
    browser = await launchChromium();
    page = await browser.newPage();
    // tsx compiles this file with esbuild's keepNames, which wraps named functions in the page
    // scripts below in __name(fn, "name") calls: give the page that helper.
    await page.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
    await page.goto(harness.pageUrl);
  });

  after(async () => {
    await browser?.close();
    await harness?.close();
  });

  it('new(), dataType "object" round trip, status, terminate() and onTerminate', async () => {
    const result = await page.evaluate(async ({ echoUrl, modulePath }) => {
      const { FourD } = (await import(modulePath)) as PageModule;
      const log: unknown[] = [];
      const statuses: string[] = [];
      let depth = 0;
      let maxDepth = 0;
      let returned = false;
      let calledBeforeReturn = false;
      const handler = {
        dataType: 'object',
        onOpen(ws: PageWebSocket, event: unknown) {
          enter();
          statuses.push(ws.status);
          log.push(event);
          ws.send({ price: 12.5, tags: ['a', 'b'], nested: { ok: true } });
          depth--;
        },
        onMessage(ws: PageWebSocket, event: { data: unknown }) {
          enter();
          log.push(event);
          log.push(Object.isFrozen(event));
          // Codes other than 1000 and 3000-4999 throw and leave the connection open.
          try {
            ws.terminate(1001);
            log.push('no throw');
          } catch (error) {
            log.push((error as Error).name);
          }
          statuses.push(ws.status);
          ws.terminate(4000, 'bye');
          statuses.push(ws.status);
          depth--;
        },
        onError(_ws: PageWebSocket, event: unknown) {
          enter();
          log.push(event);
          depth--;
        },
        onTerminate(ws: PageWebSocket, event: unknown) {
          enter();
          statuses.push(ws.status);
          log.push(event);
          depth--;
          done?.();
        },
      };
      function enter() {
        if (!returned) calledBeforeReturn = true;
        depth++;
        maxDepth = Math.max(maxDepth, depth);
      }
      let done: (() => void) | undefined;
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      const ws = FourD.WebSocket.new(echoUrl, handler);
      returned = true;
      if (ws === null) return { error: 'new() returned null' };
      statuses.push(ws.status);
      const props = {
        sameHandler: ws.handler === handler,
        dataType: ws.dataType,
        url: ws.url,
        idIsInteger: Number.isInteger(ws.id),
      };
      const timeout = setTimeout(() => done?.(), 5000);
      await finished;
      clearTimeout(timeout);
      return { log, statuses, props, maxDepth, calledBeforeReturn, finalStatus: ws.status };
    }, args());

    assert.deepEqual(result, {
      log: [
        { type: 'open' },
        {
          type: 'message',
          data: { price: 12.5, tags: ['a', 'b'], nested: { ok: true } },
        },
        true,
        'RangeError',
        { code: 4000, reason: '', wasClean: true },
      ],
      statuses: ['Connecting', 'Connected', 'Connected', 'Closing', 'Closed'],
      props: { sameHandler: true, dataType: 'object', url: harness.echoUrl, idIsInteger: true },
      maxDepth: 1,
      calledBeforeReturn: false,
      finalStatus: 'Closed',
    });
  });

  it('new() returns null for URLs that cannot be connected to; ids increase', async () => {
    const result = await page.evaluate(async ({ echoUrl, modulePath }) => {
      const { WebSocket } = (await import(modulePath)) as PageModule;
      // (A relative URL is not an error in a page: it resolves against the page's URL.)
      const nulls = ['ftp://x', 'ws://[bad', 'wss://'].map(
        (url) => WebSocket.new(url, {}) === null,
      );
      const ids: number[] = [];
      const timeout = new Promise<never>((_, reject) => {
        setTimeout(() => reject(new Error(`timed out; ids ${ids}`)), 5000);
      });
      for (let i = 0; i < 3; i++) {
        const handler: { onOpen?: () => void; onTerminate?: () => void } = {};
        const ws = WebSocket.new(echoUrl, handler);
        if (ws === null) throw new Error('new() returned null');
        ids.push(ws.id);
        await Promise.race([
          new Promise<void>((resolve) => {
            handler.onOpen = resolve;
          }),
          timeout,
        ]);
        await Promise.race([
          new Promise<void>((resolve) => {
            handler.onTerminate = resolve;
            ws.terminate();
          }),
          timeout,
        ]);
      }
      return { nulls, increasing: ids[0]! < ids[1]! && ids[1]! < ids[2]! };
    }, args());
    assert.deepEqual(result, { nulls: [true, true, true], increasing: true });
  });

  it('dataType "text" and "blob", send() while not open, refused connection', async () => {
    const result = await page.evaluate(async ({ echoUrl, modulePath, refusedUrl }) => {
      const { WebSocket } = (await import(modulePath)) as PageModule;
      const waitFor = (kind: string, make: (h: Record<string, unknown>) => PageWebSocket | null) =>
        new Promise<Record<string, unknown[]>>((resolve) => {
          const events: Record<string, unknown[]> = {
            open: [],
            message: [],
            error: [],
            terminate: [],
          };
          const handler: Record<string, unknown> = {
            dataType: kind,
            onOpen: (ws: PageWebSocket, e: unknown) => {
              events.open!.push(e);
              ws.send('h\u00e9llo');
              ws.send(new Uint8Array([104, 105]));
            },
            onMessage: (ws: PageWebSocket, e: { data: unknown }) => {
              events.message!.push(e.data);
              if (events.message!.length === 2) ws.terminate();
            },
            onError: (_ws: PageWebSocket, e: unknown) => {
              events.error!.push(e);
              // The error of send('too late') below ends the scenario.
              if (events.terminate!.length > 0) resolve(events);
            },
            onTerminate: (ws: PageWebSocket, e: unknown) => {
              events.terminate!.push(e);
              ws.send('too late');
            },
          };
          setTimeout(() => resolve(events), 5000);
          make(handler);
        });
      const text = await waitFor('text', (h) => WebSocket.new(echoUrl, h));
      const blob = await waitFor('blob', (h) => WebSocket.new(echoUrl, h));
      const blobTexts = await Promise.all(blob.message!.map((b) => (b as Blob).text()));
      const refused = await waitFor('text', (h) => WebSocket.new(refusedUrl, h));
      return {
        textMessages: text.message,
        textErrors: text.error,
        blobAreBlobs: blob.message!.every((b) => b instanceof Blob),
        blobTexts,
        refused,
      };
    }, args());

    assert.deepEqual(result.textMessages, ['h\u00e9llo', 'hi']);
    assert.deepEqual(result.textErrors, [
      {
        type: 'error',
        errors: [
          {
            errCode: 2,
            message: 'send(): the WebSocket is Closed, not Connected',
            componentSignature: 'wskit',
          },
        ],
      },
    ]);
    assert.equal(result.blobAreBlobs, true);
    assert.deepEqual(result.blobTexts, ['h\u00e9llo', 'hi']);
    const refused = result.refused as Record<string, Array<Record<string, unknown>>>;
    assert.deepEqual(refused.open, []);
    assert.deepEqual(refused.terminate, [{ code: 1006, reason: '', wasClean: false }]);
    const [first, second] = refused.error!;
    assert.deepEqual(first, {
      type: 'error',
      errors: [
        {
          errCode: 1,
          message: `cannot connect to ${refusedUrl} (no detail is available)`,
          componentSignature: 'wskit',
        },
      ],
    });
    assert.equal((second!.errors as Array<{ errCode: number }>)[0]!.errCode, 2);
  });
});
