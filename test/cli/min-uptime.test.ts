/**
 * `wskit connect --reconnect --min-uptime <seconds>`: accepted with --reconnect, a usage error
 * (exit status 2) without it or with a value that is not a number of seconds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cleanup, runCli, startEchoServer, T } from './helpers.js';

describe('wskit connect --min-uptime', () => {
  it('is accepted with --reconnect: the session runs and exits cleanly', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startEchoServer(cleanup);
      const run = await runCli(
        ['connect', url, '--reconnect', '--min-uptime', '2', '-x', 'hello', '--wait', '0.3'],
        cleanup,
      );
      assert.equal(run.status.code, 0, run.output);
      assert.match(run.stdout, /hello/, 'the echo came back');
    } finally {
      await cleanup.run();
    }
  });

  it('is refused without --reconnect, and with a value that is not seconds', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startEchoServer(cleanup);
      const alone = await runCli(['connect', url, '--min-uptime', '2', '--wait', '0'], cleanup);
      assert.equal(alone.status.code, 2, alone.output);
      assert.match(alone.stderr, /--min-uptime needs --reconnect/);
      for (const bad of ['-1', 'soon']) {
        const run = await runCli(
          ['connect', url, '--reconnect', '--min-uptime', bad, '--wait', '0'],
          cleanup,
        );
        assert.equal(run.status.code, 2, `${bad}: ${run.output}`);
        assert.match(run.stderr, /min-uptime/);
      }
    } finally {
      await cleanup.run();
    }
  });
});
