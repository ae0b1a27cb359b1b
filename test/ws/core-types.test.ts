/**
 * TypeScript users of wskit's core WebSocket: message data is typed by `binaryType` (any binary
 * type on a socket made without the option, the option's type with it), an explicitly typed
 * socket rejects another `binaryType`, servers hand out sockets of their `binaryType`, and
 * `handleUpgrade` takes the `Duplex` of Node's 'upgrade' event. The fixtures hold
 * `@ts-expect-error` lines, which tsc reports when they meet no error.
 */
import assert from 'node:assert/strict';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { consumerProject, typecheck } from '../support/typescript.js';

const fixtures = join(import.meta.dirname, 'types');
const T = { timeout: 120_000 } as const;

test(
  'Node: data per binaryType, binaryType assignments, servers, handleUpgrade with a Duplex (no DOM lib)',
  T,
  () => {
    const dir = consumerProject();
    try {
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
      copyFileSync(join(fixtures, 'core-binary-type.ts'), join(dir, 'core-binary-type.ts'));
      const out = typecheck(dir, { module: 'NodeNext', moduleResolution: 'NodeNext' }, [
        'core-binary-type.ts',
      ]);
      assert.equal(out, '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('browsers (the "browser" condition): data per binaryType, binaryType assignments', T, () => {
  const dir = consumerProject();
  try {
    copyFileSync(
      join(fixtures, 'core-browser-binary-type.ts'),
      join(dir, 'core-browser-binary-type.ts'),
    );
    const out = typecheck(
      dir,
      {
        module: 'ESNext',
        moduleResolution: 'Bundler',
        customConditions: ['browser'],
        lib: ['ES2022', 'DOM', 'DOM.Iterable'],
        types: [],
        // What is checked here is the fixture; the browser declarations come from checked sources.
        skipLibCheck: true,
      },
      ['core-browser-binary-type.ts'],
    );
    assert.equal(out, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
