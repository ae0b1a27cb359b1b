// Prints the minified and gzipped size of a browser bundle of wskit's core WebSocket beside
// partysocket and reconnecting-websocket (dev dependencies), each bundled by esbuild the same
// way. Run after `npm run build`: node scripts/browser-size.mjs
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const cases = [
  ['wskit (core WebSocket)', "export { WebSocket } from 'wskit';"],
  ['wskit (whole entry)', "export * from 'wskit';"],
  ['partysocket/ws (ReconnectingWebSocket)', "export { default } from 'partysocket/ws';"],
  ['partysocket (PartySocket)', "export { default } from 'partysocket';"],
  ['reconnecting-websocket', "export { default } from 'reconnecting-websocket';"],
];

const { version: esbuildVersion } = await import('esbuild');
console.log(`| bundle (esbuild ${esbuildVersion}, minified, ES2022) | minified | gzipped |`);
console.log('| --- | ---: | ---: |');
for (const [name, contents] of cases) {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'error',
  });
  const code = result.outputFiles[0].contents;
  const gzipped = gzipSync(code, { level: 9 }).length;
  console.log(
    `| ${name} | ${code.length.toLocaleString('en')} B | ${gzipped.toLocaleString('en')} B |`,
  );
}
