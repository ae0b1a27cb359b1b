import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, resolve } from 'node:path';
import { after, before } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type BinaryType, WebSocketServer, type WebSocketServerOptions } from '../../src/index.js';
import { launchChromium } from './chromium.js';

const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');

/** A page server for browser tests: serves dist/esm as ES modules and an echo WebSocket at /echo. */
export interface BrowserHarness {
  /** http://127.0.0.1:port/ — a blank page to load modules from. */
  pageUrl: string;
  /** ws://127.0.0.1:port/echo — a wskit echo server. */
  echoUrl: string;
  server: Server;
  wss: WebSocketServer<BinaryType>;
  close(): Promise<void>;
}

/**
 * Starts the harness on 127.0.0.1, port 0. Modules are loaded in the page with
 * `await import('/dist/esm/browser/incore.js')`; `npm run build` must have run (npm test does).
 */
export async function startHarness(
  options: Partial<WebSocketServerOptions> = {},
): Promise<BrowserHarness> {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!));
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><meta charset="utf-8"><title>wskit</title>');
      return;
    }
    if (!path.startsWith('/dist/esm/') || path.includes('..')) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(join(ROOT, path));
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  const wss = new WebSocketServer({ ...options, server, path: '/echo' } as WebSocketServerOptions);
  wss.on('connection', (socket) => {
    socket.onmessage = (event) => socket.send(event.data as string | Buffer);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    pageUrl: `http://127.0.0.1:${port}/`,
    echoUrl: `ws://127.0.0.1:${port}/echo`,
    server,
    wss,
    async close() {
      await new Promise<void>((done) => wss.close(() => done()));
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** A Chromium page on a harness, for the tests of one suite. */
export interface SuitePage {
  readonly page: Page;
  readonly harness: BrowserHarness;
}

/**
 * Starts a harness and opens a Chromium page on it before the enclosing suite's tests; closes
 * both after them. With `nameHelper`, the page defines the `__name` helper that tsx (esbuild's
 * keepNames) wraps named functions of the code given to `page.evaluate()` in.
 */
export function suitePage(options: { nameHelper?: boolean } = {}): SuitePage {
  let browser: Browser | undefined;
  let page: Page | undefined;
  let harness: BrowserHarness | undefined;
  before(async () => {
    harness = await startHarness();
    browser = await launchChromium();
    page = await browser.newPage();
    if (options.nameHelper) await page.addInitScript('globalThis.__name = (fn) => fn;');
    await page.goto(harness.pageUrl);
  });
  after(async () => {
    await browser?.close();
    await harness?.close();
  });
  return {
    get page() {
      if (!page) throw new Error('the page is opened in before()');
      return page;
    },
    get harness() {
      if (!harness) throw new Error('the harness is started in before()');
      return harness;
    },
  };
}
