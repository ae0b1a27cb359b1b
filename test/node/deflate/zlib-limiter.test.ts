import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ZlibLimiter } from '../../../src/node/deflate/zlib-limiter.js';

/** Collects the process warnings `fn` emits synchronously or on the next tick. */
async function warningsOf(fn: () => void): Promise<string[]> {
  const seen: string[] = [];
  const listener = (warning: Error & { code?: string }) => {
    if (warning.code === 'WSKIT_ZLIB_LIMIT') seen.push(warning.message);
  };
  process.on('warning', listener);
  try {
    fn();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

describe('ZlibLimiter: one process-wide limit', { timeout: 10_000 }, () => {
  it('the first concurrencyLimit option sets the limit; later ones do not change it', async () => {
    const limiter = new ZlibLimiter(10);
    limiter.adoptOption(3);
    assert.equal(limiter.limit, 3);
    const warnings = await warningsOf(() => {
      limiter.adoptOption(7);
      limiter.adoptOption(9);
    });
    assert.equal(limiter.limit, 3);
    assert.equal(warnings.length, 1, 'a conflicting option is reported once, not ignored silently');
    assert.match(warnings[0]!, /zlibLimiter\.limit/);
  });

  it('the same value again is no conflict', async () => {
    const limiter = new ZlibLimiter(10);
    limiter.adoptOption(4);
    assert.deepEqual(await warningsOf(() => limiter.adoptOption(4)), []);
  });

  it('zlibLimiter.limit wins over any option', async () => {
    const limiter = new ZlibLimiter(10);
    limiter.limit = 2;
    const warnings = await warningsOf(() => limiter.adoptOption(5));
    assert.equal(limiter.limit, 2);
    assert.equal(warnings.length, 1);
  });

  it('refuses limits below 1 either way', () => {
    const limiter = new ZlibLimiter(10);
    assert.throws(() => limiter.adoptOption(0), RangeError);
    assert.throws(() => {
      limiter.limit = 0;
    }, RangeError);
    assert.equal(limiter.limit, 10);
  });

  it('raising the limit starts waiting jobs at once', () => {
    const limiter = new ZlibLimiter(1);
    const started: number[] = [];
    const dones: Array<() => void> = [];
    for (const n of [1, 2, 3]) {
      limiter.run((done) => {
        started.push(n);
        dones.push(done);
      });
    }
    assert.deepEqual(started, [1]);
    limiter.limit = 3;
    assert.deepEqual(started, [1, 2, 3]);
    for (const done of dones) done();
    assert.equal(limiter.running, 0);
  });
});
