// Builds dist/ from src/ (entry points in scripts/entries.mjs):
//   dist/cjs      CommonJS: the code Node runs, whether the app uses require() or import
//   dist/import   ES module wrappers over dist/cjs, so import and require share one copy of
//                 every class (instanceof holds when an app mixes them)
//   dist/browser  ES modules of what the browser entries reach, compiled without Node's types
//   dist/cli.js   the command line, one ES module that imports wskit through its public entry
//   dist/esm      ES modules of all of src/ (not published: benchmarks and tests load it)
// and keeps package.json "exports" in step with the entries.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { entries, exportsField, wrapperName } from './entries.mjs';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const root = resolve(import.meta.dirname, '..');
process.chdir(root);

function compile(project) {
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
}

rmSync('dist', { recursive: true, force: true });
compile('tsconfig.build.json');
compile('tsconfig.cjs.json');
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');

// The browser tree holds only what the browser entries import; with no Node types in scope,
// a Node module reached from a browser entry fails this compile.
const scratch = mkdtempSync(join(tmpdir(), 'wskit-build-'));
try {
  const browserProject = join(scratch, 'tsconfig.json');
  writeFileSync(
    browserProject,
    JSON.stringify({
      extends: join(root, 'tsconfig.browser.json'),
      files: entries.filter((e) => e.browser).map((e) => join(root, 'src', `${e.browser}.ts`)),
    }),
  );
  compile(browserProject);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

mkdirSync('dist/import', { recursive: true });
for (const { subpath, node } of entries) {
  const name = wrapperName(subpath);
  // Node finds the names of tsc's CommonJS exports statically (cjs-module-lexer); the tarball
  // test checks that both ways of loading give the same names.
  const line = `export * from '../cjs/${node}.js';\n`;
  writeFileSync(`dist/import/${name}.js`, line);
  writeFileSync(`dist/import/${name}.d.ts`, line);
}

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  plugins: [
    {
      // The CLI is a user of the public API: its imports of src/index.ts load the package.
      name: 'wskit-public-api',
      setup(b) {
        b.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: 'wskit', external: true }));
      },
    },
  ],
});

const pkgText = readFileSync('package.json', 'utf8');
const pkg = JSON.parse(pkgText);
pkg.exports = exportsField();
const updated = `${JSON.stringify(pkg, null, 2)}\n`;
if (updated !== pkgText) {
  writeFileSync('package.json', updated);
  console.log('build: package.json "exports" updated from scripts/entries.mjs');
}
