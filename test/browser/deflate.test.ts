import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { WebSocketServer, type WebSocket as WskitSocket } from '../../src/index.js';
import { browserSkipReason, launchChromium } from './chromium.js';

describe('Chromium as a real browser client of the wskit server', {
  skip: browserSkipReason,
  timeout: 60_000,
}, () => {
  let browser: Browser;
  let page: Page;
  let server: WebSocketServer;
  let url: string;
  const serverSide: WskitSocket[] = [];

  before(async () => {
    server = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      perMessageDeflate: { threshold: 64 },
    });
    server.on('connection', (socket) => {
      serverSide.push(socket);
      socket.onmessage = (event) => socket.send(event.data as string | Buffer);
    });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await launchChromium();
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('negotiates permessage-deflate and echoes compressed text and binary', async () => {
    const result = await page.evaluate(async (target) => {
      const ws = new WebSocket(target);
      ws.binaryType = 'arraybuffer';
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error('connection failed'));
      });
      const records = Array.from({ length: 200 }, (_, i) => ({
        id: i,
        name: `user-${i}`,
        tags: ['a', 'b'],
        ok: i % 2 === 0,
      }));
      const json = JSON.stringify(records);
      const big = 'lorem ipsum dolor sit amet '.repeat(40_000);
      const bytes = new Uint8Array(100_000).map((_, i) => i % 251);
      const sent: Array<string | Uint8Array> = [json, 'tiny', big, bytes];
      const received: Array<string | ArrayBuffer> = [];
      await new Promise<void>((resolve) => {
        ws.onmessage = (event) => {
          received.push(event.data as string | ArrayBuffer);
          if (received.length === sent.length) resolve();
        };
        for (const item of sent) ws.send(item);
      });
      const same = received.map((data, i) => {
        const expected = sent[i]!;
        if (typeof expected === 'string') return data === expected;
        const got = new Uint8Array(data as ArrayBuffer);
        return got.length === expected.length && got.every((b, j) => b === expected[j]);
      });
      const closed = new Promise<{ code: number; wasClean: boolean }>((resolve) => {
        ws.onclose = (event) => resolve({ code: event.code, wasClean: event.wasClean });
      });
      ws.close(1000, 'done');
      return { extensions: ws.extensions, same, close: await closed, bigLength: big.length };
    }, url);

    assert.match(result.extensions, /^permessage-deflate/);
    assert.deepEqual(result.same, [true, true, true, true]);
    assert.deepEqual(result.close, { code: 1000, wasClean: true });
    assert.equal(serverSide.length, 1);
    assert.match(serverSide[0]!.extensions, /^permessage-deflate/);
  });

  it('echoes without compression when the server turns it off', async () => {
    const plain = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    plain.on('connection', (socket) => {
      socket.onmessage = (event) => socket.send(event.data as string);
    });
    await new Promise<void>((resolve) => plain.once('listening', resolve));
    const target = `ws://127.0.0.1:${(plain.address() as AddressInfo).port}/`;
    try {
      const result = await page.evaluate(async (address) => {
        const ws = new WebSocket(address);
        await new Promise((resolve) => {
          ws.onopen = resolve;
        });
        const echoed = await new Promise<string>((resolve) => {
          ws.onmessage = (event) => resolve(event.data as string);
          ws.send('héllo wörld');
        });
        ws.close();
        return { extensions: ws.extensions, echoed };
      }, target);
      assert.equal(result.extensions, '');
      assert.equal(result.echoed, 'héllo wörld');
    } finally {
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });
});
