/**
 * The package as users get it: `npm pack` of the built tree (no scripts run), unpacked into a
 * scratch application's node_modules. `npm run build` must have run first (npm test does).
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The project root. */
export const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');

/** Why the packed package cannot be made, or undefined when it can. */
export const packSkipReason = existsSync(join(ROOT, 'dist/cjs/index.js'))
  ? undefined
  : 'dist/ is missing: run npm run build';

/** One file of the tarball, as `npm pack --json` lists it. */
export interface PackedFile {
  path: string;
  size: number;
}

/** A packed and installed copy of wskit. */
export interface PackedApp {
  /** The .tgz file. */
  tarball: string;
  /** Bytes of the .tgz. */
  size: number;
  /** The files in the tarball. */
  files: PackedFile[];
  /** A scratch application directory with node_modules/wskit. */
  app: string;
  /** Removes the scratch directory. */
  remove(): void;
}

/** Packs the project and installs the tarball into a new scratch application. */
export function packAndInstall(): PackedApp {
  const dir = mkdtempSync(join(tmpdir(), 'wskit-pack-'));
  const out = execFileSync(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const [info] = JSON.parse(out) as [{ filename: string; size: number; files: PackedFile[] }];
  const tarball = join(dir, info.filename);
  const app = join(dir, 'app');
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', app]);
  renameSync(join(app, 'package'), join(app, 'node_modules', 'wskit'));
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true }\n');
  // The optional peer dependency of wskit/redis, as an application that uses that entry has it
  // (linked from this checkout: the scratch app installs nothing from the network).
  symlinkSync(join(ROOT, 'node_modules', 'redis'), join(app, 'node_modules', 'redis'), 'dir');
  return {
    tarball,
    size: info.size,
    files: info.files,
    app,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
