/**
 * TypeScript users of wskit/ws: code written for `ws` and typed with @types/ws compiles against
 * wskit/ws once installed (ESM and `require`, moduleResolution NodeNext and Node10, without the
 * DOM lib and with skipLibCheck off, so wskit's own declaration files are checked too), and so
 * does every TypeScript block of the README.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '../..');
const fixtures = join(import.meta.dirname, 'types');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const T = { timeout: 120_000 } as const;

/** A scratch project with wskit installed in node_modules (a link to this checkout). */
function consumer(): string {
  assert.ok(existsSync(join(root, 'dist/esm/ws.d.ts')), 'run `npm run build` first');
  const dir = mkdtempSync(join(tmpdir(), 'wskit-ts-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules/wskit'), 'dir');
  symlinkSync(join(root, 'node_modules/@types'), join(dir, 'node_modules/@types'), 'dir');
  return dir;
}

function compile(dir: string, options: Record<string, unknown>, files: string[]): string {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022'],
        types: ['node'],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        esModuleInterop: true,
        ...options,
      },
      files,
    }),
  );
  const result = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.trim();
}

test('ws code compiles against wskit/ws: ESM and require, NodeNext, no DOM lib', T, () => {
  const dir = consumer();
  try {
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    copyFileSync(join(fixtures, 'ws-code.ts'), join(dir, 'ws-code.ts'));
    copyFileSync(join(fixtures, 'ws-require.cts'), join(dir, 'ws-require.cts'));
    const out = compile(dir, { module: 'NodeNext', moduleResolution: 'NodeNext' }, [
      'ws-code.ts',
      'ws-require.cts',
    ]);
    assert.equal(out, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the same code is valid @types/ws code (the fixture is what ws users write)', T, () => {
  const dir = consumer();
  try {
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    symlinkSync(join(root, 'node_modules/ws'), join(dir, 'node_modules/ws'), 'dir');
    const code = readFileSync(join(fixtures, 'ws-code.ts'), 'utf8');
    assert.ok(code.includes("from 'wskit/ws'"));
    writeFileSync(join(dir, 'ws-code.ts'), code.replace("from 'wskit/ws'", "from 'ws'"));
    const out = compile(dir, { module: 'NodeNext', moduleResolution: 'NodeNext' }, ['ws-code.ts']);
    assert.equal(out, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('subpaths resolve under moduleResolution Node10 (typesVersions)', T, () => {
  const dir = consumer();
  try {
    copyFileSync(join(fixtures, 'ws-code.ts'), join(dir, 'ws-code.ts'));
    writeFileSync(
      join(dir, 'subpaths.ts'),
      [
        "import { WebSocket } from 'wskit';",
        "import { WebSocketProtocol } from 'wskit/protocol';",
        "import WsWebSocket from 'wskit/ws';",
        'export const all = [WebSocket, WebSocketProtocol, WsWebSocket];',
        '',
      ].join('\n'),
    );
    const out = compile(dir, { module: 'CommonJS', moduleResolution: 'Node10' }, [
      'ws-code.ts',
      'subpaths.ts',
    ]);
    assert.equal(out, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every TypeScript block of the README compiles', T, () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length > 0, 'the README has TypeScript blocks');
  const dir = consumer();
  try {
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    const files = blocks.map((code, i) => {
      const name = `readme-${i + 1}.ts`;
      // Each block is its own module, even without imports.
      writeFileSync(join(dir, name), `${code}\nexport {};\n`);
      return name;
    });
    const out = compile(
      dir,
      { module: 'NodeNext', moduleResolution: 'NodeNext', noUnusedLocals: false },
      files,
    );
    assert.equal(out, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
