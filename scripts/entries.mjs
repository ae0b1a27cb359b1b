// The package's entry points, one line each: the subpath users import, the module under src/
// that Node runs, and the one browsers get (null when the entry does not run in a browser).
// The build derives package.json "exports", the ES module wrappers and the browser tree from
// this list; adding an entry is adding a line here and running `npm run build`. Optional fields:
// `esm`, the module the ES module wrapper re-exports when it differs from `node`; `defaultExport`,
// the named export a default export equals (for its type declaration).
export const entries = [
  { subpath: '.', node: 'index', browser: 'browser/index' },
  { subpath: './protocol', node: 'protocol/index', browser: 'protocol/index' },
  { subpath: './incore', node: 'incore', browser: 'dialects/incore/browser' },
  { subpath: './4d', node: '4d', browser: 'dialects/4d/browser' },
  { subpath: './overte', node: 'overte', browser: 'dialects/overte/browser' },
  { subpath: './redis', node: 'redis/index', browser: null },
  // require('wskit/ws') is ws's shape, the WebSocket class itself (dist/cjs/ws.js, written by the
  // build); the ES module wrapper re-exports the module behind it.
  { subpath: './ws', node: 'ws', esm: 'ws/index', defaultExport: 'WebSocket', browser: null },
];

/** The file name of an entry's ES module wrapper: "." is index, "./4d" is 4d. */
export function wrapperName(subpath) {
  return subpath === '.' ? 'index' : subpath.slice(2).replaceAll('/', '-');
}

/** The "exports" field of package.json for the entries. */
export function exportsField() {
  const field = {};
  for (const { subpath, node, browser } of entries) {
    const name = wrapperName(subpath);
    field[subpath] = {
      ...(browser
        ? {
            browser: {
              types: `./dist/browser/types/${browser}.d.ts`,
              default: `./dist/browser/${name}.js`,
            },
          }
        : {}),
      import: { types: `./dist/import/${name}.d.ts`, default: `./dist/import/${name}.js` },
      require: { types: `./dist/cjs/${node}.d.ts`, default: `./dist/cjs/${node}.js` },
    };
  }
  field['./package.json'] = './package.json';
  return field;
}

/**
 * The "typesVersions" field: lets TypeScript's legacy `node10` resolution, which ignores
 * "exports", find the declarations of the subpath entries.
 */
export function typesVersionsField() {
  const paths = {};
  for (const { subpath, node } of entries) {
    if (subpath !== '.') paths[subpath.slice(2)] = [`./dist/cjs/${node}.d.ts`];
  }
  return { '*': paths };
}
