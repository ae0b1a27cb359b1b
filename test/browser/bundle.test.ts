/**
 * Every entry of the packed package bundles for browsers with esbuild (the `browser` condition,
 * no Node modules) and loads in Chromium; the core bundle talks to a wskit server. Needs
 * `npm run build` first.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { type PackedApp, packAndInstall, packSkipReason } from '../support/packed.js';
import { browserSkipReason, launchChromium } from './chromium.js';
import { type BrowserHarness, startHarness } from './harness.js';

const SPECIFIERS = ['wskit', 'wskit/protocol', 'wskit/incore', 'wskit/4d', 'wskit/overte'];

/** Bundles `source` as an app inside the packed application, for browsers. */
async function bundle(app: string, source: string): Promise<string> {
  const file = join(app, 'entry.mjs');
  writeFileSync(file, source);
  const result = await build({
    entryPoints: [file],
    absWorkingDir: app,
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    minify: true,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

describe('browser bundles of every entry', {
  skip: browserSkipReason ?? packSkipReason,
  timeout: 120_000,
}, () => {
  let packed: PackedApp;
  let browser: Browser;
  let page: Page;
  let harness: BrowserHarness;

  before(async () => {
    packed = packAndInstall();
    harness = await startHarness();
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(harness.pageUrl);
  });

  after(async () => {
    await browser?.close();
    await harness?.close();
    packed?.remove();
  });

  for (const spec of SPECIFIERS) {
    it(`${spec} bundles without Node modules and loads`, async () => {
      const code = await bundle(
        packed.app,
        `import * as m from '${spec}';\nglobalThis.loaded = globalThis.loaded || {};\nglobalThis.loaded['${spec}'] = Object.keys(m).sort();\n`,
      );
      const nodeImport = /\brequire\(|["'`]node:/.exec(code);
      assert.equal(nodeImport, null, `a Node module in the bundle: ${nodeImport?.[0]}`);
      await page.addScriptTag({ content: code });
      const names = (await page.evaluate(
        (s) => (globalThis as unknown as { loaded: Record<string, string[]> }).loaded[s],
        spec,
      )) as string[];
      assert.ok(names.includes(spec === 'wskit/protocol' ? 'WebSocketProtocol' : 'WebSocket'));
      assert.ok(!names.includes('WebSocketServer'), 'no server in a browser');
    });
  }

  it('the core bundle echoes through a wskit server', async () => {
    const code = await bundle(
      packed.app,
      `import { WebSocket } from 'wskit';
globalThis.echo = async (url) => {
  const ws = await WebSocket.connect(url, { reconnect: true });
  const reply = ws.json();
  ws.sendJSON({ hello: 'bundle' });
  const { value } = await reply.next();
  ws.close();
  return value;
};
`,
    );
    await page.addScriptTag({ content: code });
    const value = await page.evaluate(
      (url) => (globalThis as unknown as { echo(u: string): Promise<unknown> }).echo(url),
      harness.echoUrl,
    );
    assert.deepEqual(value, { hello: 'bundle' });
  });
});
