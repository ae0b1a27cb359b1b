// Runs every test file under test/ with Node's test runner, TypeScript loaded through tsx, and
// measures line coverage of src/ with c8 (V8's own coverage, mapped back to the TypeScript).
// Usage: node scripts/run-tests.mjs [--no-coverage] [filter...]  (filters match file paths)
// Ends with one plain line, `tests: N passed, N failed, N skipped`, after the coverage summary.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

function collect(dir) {
  const files = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...collect(path));
    else if (name.endsWith('.test.ts')) files.push(path);
  }
  return files;
}

const args = process.argv.slice(2);
const coverage = !args.includes('--no-coverage');
const filters = args.filter((a) => a !== '--no-coverage');
const files = collect('test').filter(
  (f) => filters.length === 0 || filters.some((x) => f.includes(x)),
);
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const testRun = [
  process.execPath,
  '--import',
  'tsx',
  '--test',
  '--test-concurrency=2',
  '--test-timeout=120000',
  ...files,
];
const c8 = createRequire(import.meta.url).resolve('c8/bin/c8.js');
const command = coverage
  ? [
      process.execPath,
      c8,
      '--reporter=text-summary',
      '--reporter=html',
      '--reports-dir=coverage',
      '--all',
      '--include=src/**/*.ts',
      ...testRun,
    ]
  : testRun;

// The runner's own totals are read from its output as it streams by, so the closing line can
// repeat them after the coverage report.
const totals = { pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };
const child = spawn(command[0], command.slice(1), { stdio: ['inherit', 'pipe', 'inherit'] });
let pending = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  pending += chunk.toString('utf8');
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    const m = /^# (pass|fail|skipped|todo|cancelled) (\d+)$/.exec(line);
    if (m) totals[m[1]] += Number(m[2]);
  }
});
child.on('close', (code, signal) => {
  if (coverage) console.log('full coverage report: coverage/index.html');
  const failed = totals.fail + totals.cancelled;
  console.log(
    `tests: ${totals.pass} passed, ${failed} failed, ${totals.skipped + totals.todo} skipped`,
  );
  process.exit(code ?? (signal ? 1 : 0));
});
