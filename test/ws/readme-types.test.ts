/**
 * TypeScript users of the installed package: every subpath resolves under moduleResolution
 * Node10 (through typesVersions), and every TypeScript block of the README compiles.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { consumerProject, ROOT, typecheck } from '../support/typescript.js';

const fixtures = join(import.meta.dirname, 'types');
const T = { timeout: 120_000 } as const;

test('subpaths resolve under moduleResolution Node10 (typesVersions)', T, () => {
  const dir = consumerProject();
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
    const out = typecheck(dir, { module: 'CommonJS', moduleResolution: 'Node10' }, [
      'ws-code.ts',
      'subpaths.ts',
    ]);
    assert.equal(out, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every TypeScript block of the README compiles', T, () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length > 0, 'the README has TypeScript blocks');
  const dir = consumerProject();
  try {
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    const files = blocks.map((code, i) => {
      const name = `readme-${i + 1}.ts`;
      // Each block is its own module, even without imports.
      writeFileSync(join(dir, name), `${code}\nexport {};\n`);
      return name;
    });
    const out = typecheck(
      dir,
      { module: 'NodeNext', moduleResolution: 'NodeNext', noUnusedLocals: false },
      files,
    );
    assert.equal(out, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
