// Builds dist/ from src/ (entry points in scripts/entries.mjs):
//   dist/cjs      CommonJS: the code Node runs, whether the app uses require() or import
//   dist/import   ES module wrappers over dist/cjs, so import and require share one copy of
//                 every class (instanceof holds when an app mixes them)
//   dist/browser  the browser entries as ES module bundles (code they share in chunks/), and
//                 their declarations in types/
//   dist/cli.js   the command line, one ES module that imports wskit through its public entry
//   dist/esm      ES modules of all of src/ (not published: benchmarks and tests load it)
// and keeps package.json "exports" in step with the entries.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, resolve as resolvePath } from 'node:path';
import { build } from 'esbuild';
import { entries, exportsField, typesVersionsField, wrapperName } from './entries.mjs';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const root = resolve(import.meta.dirname, '..');
process.chdir(root);

const pkgText = readFileSync('package.json', 'utf8');
const pkg = JSON.parse(pkgText);
// An entry added to package.json by hand would be lost here: refuse instead.
const listed = new Set(Object.keys(exportsField()));
const unlisted = Object.keys(pkg.exports ?? {}).filter((subpath) => !listed.has(subpath));
if (unlisted.length > 0) {
  console.error(
    `build: package.json "exports" has ${unlisted.join(', ')}, which scripts/entries.mjs does not list: add a line there for each (the build writes "exports" from that list)`,
  );
  process.exit(1);
}

function compile(project) {
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
}

rmSync('dist', { recursive: true, force: true });
compile('tsconfig.build.json');
compile('tsconfig.cjs.json');
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
// `require('wskit/ws')` gives the WebSocket class itself, as `require('ws')` does.
writeFileSync(
  'dist/cjs/ws.js',
  '"use strict";\n// ws\'s CommonJS shape: the module is the WebSocket class, carrying Server, WebSocketServer, ...\nmodule.exports = require("./ws/index.js").default;\n',
);
writeFileSync('dist/cjs/ws.d.ts', 'import WebSocket from "./ws/index.js";\nexport = WebSocket;\n');

// The browser entries compile (declarations only) without Node's types in scope, so a Node
// module reached from one fails here; esbuild then bundles them (shared code in chunks, so
// classes stay one copy).
const scratch = mkdtempSync(join(tmpdir(), 'wskit-build-'));
const browserEntries = entries.filter((e) => e.browser);
try {
  const browserProject = join(scratch, 'tsconfig.json');
  writeFileSync(
    browserProject,
    JSON.stringify({
      extends: join(root, 'tsconfig.browser.json'),
      files: browserEntries.map((e) => join(root, 'src', `${e.browser}.ts`)),
    }),
  );
  compile(browserProject);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
await build({
  entryPoints: Object.fromEntries(
    browserEntries.map((e) => [wrapperName(e.subpath), `src/${e.browser}.ts`]),
  ),
  outdir: 'dist/browser',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  logLevel: 'warning',
});

// ES module wrappers: each re-exports by name what its CommonJS module exports. esbuild lists
// the value exports of the source statically, so no module runs at build time.
mkdirSync('dist/import', { recursive: true });
for (const { subpath, node, esm, defaultExport } of entries) {
  const name = wrapperName(subpath);
  const { metafile } = await build({
    entryPoints: [`src/${node}.ts`],
    bundle: true,
    write: false,
    outdir: 'dist/import',
    platform: 'node',
    format: 'esm',
    packages: 'external',
    metafile: true,
    logLevel: 'warning',
  });
  const names = Object.values(metafile.outputs).flatMap((o) => o.exports);
  const from = `'../cjs/${esm ?? node}.js'`;
  if (names.includes('default')) {
    // Node gives a CommonJS module's module.exports as its default export, so a default export
    // is taken from it by name, and the named ones beside it.
    const named = names.filter((n) => n !== 'default').sort();
    writeFileSync(
      `dist/import/${name}.js`,
      `import cjs from ${from};\nexport default cjs.default;\nexport const {\n  ${named.join(',\n  ')},\n} = cjs;\n`,
    );
    // A CommonJS declaration's `export default` is `exports.default` to an ES module importer,
    // so the type of the default export is named by the export it equals.
    if (!defaultExport) throw new Error(`build: entry ${subpath} needs "defaultExport"`);
    writeFileSync(
      `dist/import/${name}.d.ts`,
      `export * from ${from};\nexport { ${defaultExport} as default } from ${from};\n`,
    );
  } else {
    writeFileSync(
      `dist/import/${name}.js`,
      `export {\n  ${names.sort().join(',\n  ')},\n} from ${from};\n`,
    );
    writeFileSync(`dist/import/${name}.d.ts`, `export * from ${from};\n`);
  }
}

// tsc emits every file under src/; the tarball holds only what some entry loads (type-only
// modules emit empty JavaScript and are needed as declarations only).
function reach(extension, pattern) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(pattern)) {
      visit(join(dirname(file), spec.replace(/\.js$/, extension)));
    }
  };
  for (const { node } of entries) visit(join('dist/cjs', `${node}${extension}`));
  return seen;
}
const usedJs = reach('.js', /require\("(\.{1,2}\/[^"]+)"\)/g);
const usedTypes = reach('.d.ts', /(?:from|import\() ?['"](\.{1,2}\/[^'"]+)['"]/g);
for (const file of readdirSync('dist/cjs', { recursive: true })) {
  const path = join('dist/cjs', file);
  if (path.endsWith('.d.ts') ? !usedTypes.has(path) : path.endsWith('.js') && !usedJs.has(path))
    rmSync(path);
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
      // Any relative import of src/index.ts or src/protocol/index.ts, from any depth of src/cli,
      // becomes the package's own entry, so the CLI shares the library's classes.
      setup(b) {
        const publicEntries = new Map([
          [resolvePath('src/index.ts'), 'wskit'],
          [resolvePath('src/protocol/index.ts'), 'wskit/protocol'],
          [resolvePath('src/redis/index.ts'), 'wskit/redis'],
        ]);
        b.onResolve({ filter: /index\.js$/ }, (args) => {
          const target = resolvePath(args.resolveDir, args.path).replace(/\.js$/, '.ts');
          const entry = publicEntries.get(target);
          return entry ? { path: entry, external: true } : undefined;
        });
      },
    },
  ],
});

pkg.exports = exportsField();
pkg.typesVersions = typesVersionsField();
const updated = `${JSON.stringify(pkg, null, 2)}\n`;
if (updated !== pkgText) {
  writeFileSync('package.json', updated);
  console.log('build: package.json "exports" and "typesVersions" updated from scripts/entries.mjs');
}
