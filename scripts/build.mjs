// Builds the ES module and CommonJS trees of dist/ with the TypeScript compiler.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');

rmSync('dist', { recursive: true, force: true });
for (const project of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
}
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
// `require('wskit/ws')` gives the WebSocket class itself, as `require('ws')` does.
writeFileSync(
  'dist/cjs/ws.js',
  "'use strict';\n// ws's CommonJS shape: the module is the WebSocket class, carrying Server, WebSocketServer, ...\nmodule.exports = require('./ws/index.js').default;\n",
);
writeFileSync('dist/cjs/ws.d.ts', "import WebSocket from './ws/index.js';\nexport = WebSocket;\n");
