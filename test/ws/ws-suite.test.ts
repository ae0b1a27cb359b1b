/**
 * ws's own public-API tests (../shared/peers/ws, ws 8.21) run against wskit/ws: every failure
 * must be one of the expected failures listed, with its reason, in ws-expected-failures.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { EXPECTED_FAILURES } from './ws-expected-failures.js';

const root = resolve(import.meta.dirname, '../..');
const runner = resolve(root, '../shared/peers/ws/run.sh');

interface MochaReport {
  stats: { tests: number; passes: number; failures: number };
  failures: Array<{ fullTitle: string; err: { message?: string } }>;
}

test("ws's public-API suite passes on wskit/ws, except the listed expected failures", {
  timeout: 280_000,
}, () => {
  assert.ok(existsSync(runner), `ws's suite is missing at ${runner}`);
  assert.ok(existsSync(join(root, 'dist/cjs/ws.js')), 'run `npm run build` first');
  const dir = mkdtempSync(join(tmpdir(), 'wskit-ws-suite-'));
  const output = join(dir, 'report.json');
  try {
    const result = spawnSync(
      'bash',
      [
        runner,
        './dist/cjs/ws.js',
        '--reporter',
        'json',
        '--reporter-option',
        `output=${output}`,
        '--exit',
      ],
      { cwd: root, encoding: 'utf8', timeout: 270_000 },
    );
    assert.ok(existsSync(output), `mocha wrote no report: ${result.stderr}`);
    const report = JSON.parse(readFileSync(output, 'utf8')) as MochaReport;
    const unexpected = report.failures
      .filter((f) => !(f.fullTitle in EXPECTED_FAILURES))
      .map((f) => `${f.fullTitle}: ${f.err.message ?? ''}`);
    assert.deepEqual(unexpected, [], 'tests of ws that fail on wskit/ws and are not listed');
    const failing = new Set(report.failures.map((f) => f.fullTitle));
    assert.ok(report.stats.tests >= 270, `ws's suite ran only ${report.stats.tests} tests`);
    assert.equal(
      report.stats.passes,
      report.stats.tests - failing.size,
      'every test that did not fail passed',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
