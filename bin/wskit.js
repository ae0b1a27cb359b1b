#!/usr/bin/env node
// The wskit command line; the code is in src/cli (bundled into dist/cli.js by `npm run build`).
import { run } from '../dist/cli.js';

run(process.argv.slice(2), { packageJson: new URL('../package.json', import.meta.url) });
