/**
 * The published package: what the tarball holds, that import and require() share one copy of
 * every class, that loading an entry changes nothing global (sideEffects: false), and that
 * publint and Are the Types Wrong find nothing. Needs `npm run build` first.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type PackedApp, packAndInstall, packSkipReason, ROOT } from '../support/packed.js';

const run = promisify(execFile);
const entries = (
  (await import(join(ROOT, 'scripts/entries.mjs'))) as {
    entries: { subpath: string; node: string; browser: string | null }[];
  }
).entries;
const specifiers = entries.map((e) =>
  e.subpath === '.' ? 'wskit' : `wskit/${e.subpath.slice(2)}`,
);

/** Runs an ES module script inside the scratch application and returns its stdout. */
async function runInApp(app: string, name: string, source: string): Promise<string> {
  const file = join(app, name);
  writeFileSync(file, source);
  const { stdout } = await run(process.execPath, [file], { cwd: app, timeout: 30_000 });
  return stdout;
}

describe('published package', { skip: packSkipReason, timeout: 120_000 }, () => {
  let packed: PackedApp;

  before(() => {
    packed = packAndInstall();
  });

  after(() => packed?.remove());

  it('holds only what runs, the license, the changelog and the readme', () => {
    const paths = packed.files.map((f) => f.path).sort();
    const allowed =
      /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|bin\/wskit\.js|dist\/cli\.js|dist\/(cjs|import|browser)\/.+)$/;
    assert.deepEqual(
      paths.filter((p) => !allowed.test(p)),
      [],
    );
    assert.deepEqual(
      paths.filter((p) => /\.map$|test|spec/i.test(p)),
      [],
      'no source maps (none are published) and no tests',
    );
    const license = readFileSync(join(packed.app, 'node_modules/wskit/LICENSE'), 'utf8');
    assert.match(license, /^MIT License/);
    const pkg = JSON.parse(
      readFileSync(join(packed.app, 'node_modules/wskit/package.json'), 'utf8'),
    );
    assert.equal(pkg.license, 'MIT');
    assert.equal(pkg.sideEffects, false);
  });

  it('ships no CommonJS module that no entry loads, and every declaration it refers to', () => {
    const dir = join(packed.app, 'node_modules/wskit');
    const reached = new Set<string>();
    const visit = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      const source = readFileSync(join(dir, file), 'utf8');
      for (const [, spec] of source.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
        visit(posix.join(posix.dirname(file), spec!));
      }
    };
    for (const e of entries) visit(`dist/cjs/${e.node}.js`);
    const shippedPaths = packed.files.map((f) => f.path);
    const shipped = shippedPaths.filter((p) => p.startsWith('dist/cjs/') && p.endsWith('.js'));
    assert.deepEqual(
      shipped.filter((p) => !reached.has(p)),
      [],
    );
    // Every declaration file a shipped declaration refers to is shipped too.
    const declarations = new Set(shippedPaths.filter((p) => p.endsWith('.d.ts')));
    const dangling: string[] = [];
    for (const file of declarations) {
      const source = readFileSync(join(dir, file), 'utf8');
      for (const [, spec] of source.matchAll(/(?:from|import\() ?['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = posix.join(posix.dirname(file), spec!.replace(/\.js$/, '.d.ts'));
        if (!declarations.has(target)) dangling.push(`${file} -> ${spec}`);
      }
    }
    assert.deepEqual(dangling, []);
  });

  it('gives one class identity whether imported or required, with the same names', async () => {
    const out = await runInApp(
      packed.app,
      'identity.mjs',
      `import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const names = {};
for (const spec of ${JSON.stringify(specifiers)}) {
  const esm = await import(spec);
  const cjs = require(spec);
  const esmNames = Object.keys(esm).filter((n) => n !== 'default').sort();
  if (typeof cjs === 'function') {
    // ws's shape (wskit/ws): require() gives the class itself, which import gives as default,
    // and the names both have are the same objects.
    assert.equal(esm.default, cjs, spec + ': the default export is what require() gives');
    for (const n of esmNames.filter((n) => n in cjs)) assert.equal(esm[n], cjs[n], spec + ': ' + n + ' is one object');
  } else {
    assert.deepEqual(esmNames, Object.keys(cjs).sort(), spec + ': import and require give the same names');
    for (const n of esmNames) assert.equal(esm[n], cjs[n], spec + ': ' + n + ' is one object');
  }
  names[spec] = esmNames.length;
}
const { WebSocketServer } = require('wskit');
const { WebSocket, WebSocketError, ConnectionError } = await import('wskit');
// A server made through require() accepts sockets the imported class recognises.
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((done) => wss.on('listening', done));
const accepted = new Promise((done) => wss.on('connection', done));
const client = await WebSocket.connect('ws://127.0.0.1:' + wss.address().port);
const serverSide = await accepted;
assert.ok(serverSide instanceof WebSocket);
assert.ok(client instanceof require('wskit').WebSocket);
const failure = await WebSocket.connect('ws://127.0.0.1:1').catch((e) => e);
assert.ok(failure instanceof require('wskit').ConnectionError);
assert.ok(failure instanceof WebSocketError && failure instanceof ConnectionError);
client.close();
await new Promise((done) => wss.close(done));
console.log(JSON.stringify(names));
`,
    );
    const names = JSON.parse(out) as Record<string, number>;
    assert.deepEqual(Object.keys(names), specifiers);
    for (const spec of specifiers) assert.ok(names[spec]! > 0, `${spec} exports something`);
  });

  it('changes nothing global when an entry is loaded (sideEffects: false)', async () => {
    const out = await runInApp(
      packed.app,
      'side-effects.mjs',
      `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const snapshot = () => JSON.stringify({
  globals: Reflect.ownKeys(globalThis).map(String).sort(),
  prototypes: [Object, Array, Function, String, Number, Promise, Error, Uint8Array, EventTarget]
    .map((C) => Reflect.ownKeys(C.prototype).map(String).sort()),
  // File reads in flight (a module loading an optional addon) end by themselves, and stdio
  // pipes open on first use of process.stdout (as the redis peer dependency does); what counts
  // is what wskit would leave: timers, sockets, servers.
  handles: process
    .getActiveResourcesInfo()
    .filter((r) => !/^(CloseReq|FSReq|PipeWrap|TTYWrap)/.test(r)).length,
});
const before = snapshot();
const changed = [];
for (const spec of ${JSON.stringify(specifiers)}) {
  await import(spec);
  require(spec);
  if (snapshot() !== before) changed.push(spec);
}
console.log(JSON.stringify(changed));
`,
    );
    assert.deepEqual(JSON.parse(out), []);
  });

  it('runs the command line from the installed package', async () => {
    const { stdout } = await run(
      process.execPath,
      [join(packed.app, 'node_modules/wskit/bin/wskit.js'), '--version'],
      { cwd: packed.app, timeout: 30_000 },
    );
    assert.match(stdout, /^\d+\.\d+\.\d+/);
  });

  it('passes publint (strict)', async () => {
    const bin = join(ROOT, 'node_modules/publint/src/cli.js');
    const { stdout } = await run(process.execPath, [bin, 'run', packed.tarball, '--strict'], {
      timeout: 60_000,
    });
    assert.doesNotMatch(stdout, /error|warning|suggestion/i, stdout);
  });

  it('passes Are the Types Wrong for every entry and resolution mode', async () => {
    const bin = join(ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js');
    const result = await run(
      process.execPath,
      [bin, packed.tarball, '--format', 'json', '--no-color'],
      { timeout: 90_000 },
    ).catch((error: { stdout: string }) => error);
    const report = JSON.parse(result.stdout) as { problems?: object; analysis?: unknown };
    assert.ok(report.analysis, 'attw analysed the package');
    assert.deepEqual(Object.values(report.problems ?? {}), [], result.stdout.slice(0, 2000));
  });
});
