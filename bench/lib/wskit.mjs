// Where the benchmark loads wskit from. `npm run build` writes dist/esm; run.mjs copies it at
// start (snapshotWskit) and its children import the copy (importWskit, through the
// WSKIT_BENCH_DIST environment variable they inherit). Other people build in the same checkout
// while the benchmark runs (`npm test` builds first), and a build empties dist/ for a few
// seconds: a child started then would crash, and one started after it would measure other code.
// With the copy, every child of one run measures the same build; if a build is running when the
// benchmark starts, it waits for the build to finish.
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const distEsm = fileURLToPath(new URL('../../dist/esm/', import.meta.url));

/** The wskit module: the run's snapshot when there is one, else dist/esm/index.js. */
export function importWskit() {
  return import(process.env.WSKIT_BENCH_DIST ?? pathToFileURL(`${distEsm}index.js`).href);
}

/** A module of wskit's dist/esm tree by its path there (`protocol/index.js`), snapshot or not. */
export function importWskitModule(relative) {
  const base = process.env.WSKIT_BENCH_DIST ?? pathToFileURL(`${distEsm}index.js`).href;
  return import(new URL(relative, base).href);
}

/** Files under `dir` with their sizes and modification times, or null if `dir` is missing. */
function signature(dir) {
  try {
    return readdirSync(dir, { recursive: true })
      .sort()
      .map((f) => {
        const st = statSync(path.join(dir, f));
        return `${f} ${st.size} ${st.mtimeMs}`;
      })
      .join('\n');
  } catch {
    return null;
  }
}

/**
 * Copies dist/esm to a temporary directory and points WSKIT_BENCH_DIST at it, for this process
 * and the children it starts from now on. If a build is running (dist/esm missing or changing),
 * waits up to `waitMs` for it to finish, and copies again if the tree changed during the copy.
 * Returns { builtAt, directory, remove() }.
 */
export async function snapshotWskit(waitMs = 120_000) {
  const index = path.join(distEsm, 'index.js');
  // Inside the checkout (bench/results/, git-ignored), not the system's temporary directory, so
  // that the copy resolves packages as an installed wskit would: from this project's
  // node_modules. Optional ones matter: the Node platform loads `bufferutil` when it is there.
  const results = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(results, { recursive: true });
  const directory = mkdtempSync(path.join(results, 'wskit-dist-'));
  const remove = () => rmSync(directory, { recursive: true, force: true });
  // dist/esm is ES modules because of the package's "type": "module"; the copy needs its own.
  writeFileSync(path.join(directory, 'package.json'), '{ "type": "module" }\n');
  const deadline = Date.now() + waitMs;
  let waited = false;
  for (;;) {
    const before = signature(distEsm);
    if (before !== null && existsSync(index)) {
      await sleep(waited ? 2000 : 200);
      try {
        if (signature(distEsm) === before) {
          const copy = path.join(directory, 'esm');
          rmSync(copy, { recursive: true, force: true });
          cpSync(distEsm, copy, { recursive: true });
          if (signature(distEsm) === before) {
            process.env.WSKIT_BENCH_DIST = pathToFileURL(path.join(copy, 'index.js')).href;
            return { builtAt: statSync(index).mtime.toISOString(), directory, remove };
          }
        }
      } catch {
        // A build removed files during the copy: try again.
      }
    }
    if (Date.now() > deadline) {
      remove();
      throw new Error(`${index} is missing or keeps changing: run npm run build first`);
    }
    if (!waited) console.error('dist/esm is missing or changing (a build running?): waiting');
    waited = true;
    await sleep(500);
  }
}
