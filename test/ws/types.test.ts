/**
 * TypeScript users of wskit/ws: code written for `ws` and typed with @types/ws compiles against
 * wskit/ws once installed (ESM and `require`, moduleResolution NodeNext, without the DOM lib and
 * with skipLibCheck off, so wskit's own declaration files are checked too). Subpaths under
 * Node10 resolution and the README's blocks are in readme-types.test.ts.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { consumerProject, ROOT, typecheck } from '../support/typescript.js';

const fixtures = join(import.meta.dirname, 'types');
const T = { timeout: 120_000 } as const;

test('ws code compiles against wskit/ws: ESM and require, NodeNext, no DOM lib', T, () => {
  const dir = consumerProject();
  try {
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    copyFileSync(join(fixtures, 'ws-code.ts'), join(dir, 'ws-code.ts'));
    copyFileSync(join(fixtures, 'ws-require.cts'), join(dir, 'ws-require.cts'));
    const out = typecheck(dir, { module: 'NodeNext', moduleResolution: 'NodeNext' }, [
      'ws-code.ts',
      'ws-require.cts',
    ]);
    assert.equal(out, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the same code is valid @types/ws code (the fixture is what ws users write)', T, () => {
  const dir = consumerProject();
  try {
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    symlinkSync(join(ROOT, 'node_modules/ws'), join(dir, 'node_modules/ws'), 'dir');
    const code = readFileSync(join(fixtures, 'ws-code.ts'), 'utf8');
    assert.ok(code.includes("from 'wskit/ws'"));
    writeFileSync(join(dir, 'ws-code.ts'), code.replace("from 'wskit/ws'", "from 'ws'"));
    const out = typecheck(dir, { module: 'NodeNext', moduleResolution: 'NodeNext' }, [
      'ws-code.ts',
    ]);
    assert.equal(out, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
