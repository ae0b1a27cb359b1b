#!/usr/bin/env node
// The wskit command line; the code is in src/cli (built into dist/ by `npm run build`).
import { run } from '../dist/esm/cli/main.js';

run(process.argv.slice(2), { packageJson: new URL('../package.json', import.meta.url) });
