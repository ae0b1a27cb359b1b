// Compiling code the way a user of the installed package does: a scratch project that links this
// checkout as node_modules/wskit and runs tsc on it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** A scratch project with wskit installed in node_modules (a link to this checkout's build). */
export function consumerProject(): string {
  assert.ok(existsSync(join(ROOT, 'dist/esm/index.d.ts')), 'run `npm run build` first');
  const dir = mkdtempSync(join(tmpdir(), 'wskit-ts-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules/wskit'), 'dir');
  symlinkSync(join(ROOT, 'node_modules/@types'), join(dir, 'node_modules/@types'), 'dir');
  return dir;
}

/**
 * Type-checks `files` of `dir` in strict mode, with wskit's declaration files checked too
 * (skipLibCheck off) and without the DOM lib unless `options` says otherwise; returns tsc's
 * output, empty when everything compiles.
 */
export function typecheck(dir: string, options: Record<string, unknown>, files: string[]): string {
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
