/**
 * `wskit serve --broadcast --redis <url>`: two serve processes on one Redis form one chat; a
 * Redis that cannot be reached and a --redis without --broadcast are clear errors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { haveRedis, RedisProcess } from '../redis/redis-server.js';
import { Cleanup, Cli, runCli, unusedPort } from './helpers.js';

// Loading the redis package takes seconds on a busy machine: longer bounds than other CLI tests.
const T = { timeout: 120_000 } as const;
const SLOW_MS = 40_000;

async function serve(
  args: readonly string[],
  cleanup: Cleanup,
): Promise<{ server: Cli; url: string }> {
  const server = new Cli(['serve', ...args], cleanup);
  const [, url] = await server.waitFor(
    /^listening on (ws:\/\/127\.0\.0\.1:\d+)\n/,
    'stdout',
    SLOW_MS,
  );
  return { server, url: url! };
}

describe('wskit serve --redis', () => {
  it('two serve processes on one Redis form one chat', T, async (t) => {
    if (!haveRedis(t)) return;
    const redis = await RedisProcess.start(t);
    const cleanup = new Cleanup();
    try {
      const args = ['--port', '0', '--broadcast', '--redis', redis.url];
      const one = await serve(args, cleanup);
      const two = await serve(args, cleanup);
      const alice = new Cli(['connect', one.url, '--wait', '0', '--no-raw'], cleanup);
      const bob = new Cli(['connect', two.url, '--wait', '0', '--no-raw'], cleanup);
      await alice.waitFor(/connected to/);
      await bob.waitFor(/connected to/);
      // Logged once the client's subscription holds on every node.
      await one.server.waitFor(/ connected, /, 'stdout', SLOW_MS);
      await two.server.waitFor(/ connected, /, 'stdout', SLOW_MS);
      alice.write('from alice\n');
      await bob.waitFor(/< from alice\n/);
      await alice.waitFor(/< from alice\n/);
      bob.write('from bob\n');
      await alice.waitFor(/< from bob\n/);
      await bob.waitFor(/< from bob\n/);
      alice.end();
      bob.end();
      assert.equal((await alice.exit()).code, 0, alice.output);
      assert.equal((await bob.exit()).code, 0, bob.output);
      for (const { server } of [one, two]) {
        server.child.kill('SIGTERM');
        assert.equal((await server.exit(SLOW_MS)).code, 0, server.output);
      }
    } finally {
      await cleanup.run();
    }
  });

  it('exits 1 with a clear message when Redis cannot be reached', T, async () => {
    const cleanup = new Cleanup();
    try {
      const port = await unusedPort();
      const url = `redis://127.0.0.1:${port}`;
      const cli = await runCli(['serve', '--port', '0', '--broadcast', '--redis', url], cleanup, {
        ms: SLOW_MS,
      });
      assert.equal(cli.status.code, 1, cli.output);
      assert.match(cli.stderr, new RegExp(`cannot reach Redis at ${url}.*start Redis`));
    } finally {
      await cleanup.run();
    }
  });

  it('refuses --redis without --broadcast, and a URL that is not redis:', T, async () => {
    const cleanup = new Cleanup();
    try {
      const alone = await runCli(['serve', '--redis', 'redis://127.0.0.1:6379'], cleanup);
      assert.equal(alone.status.code, 2, alone.output);
      assert.match(alone.stderr, /--redis .*--broadcast/);
      const bad = await runCli(['serve', '--broadcast', '--redis', 'http://x'], cleanup);
      assert.equal(bad.status.code, 2, bad.output);
      assert.match(bad.stderr, /redis:\/\/ or rediss:\/\//);
    } finally {
      await cleanup.run();
    }
  });
});
