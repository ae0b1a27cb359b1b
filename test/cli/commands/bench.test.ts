/** `wskit bench`: the JSON results, the human report, a remote target, and failures. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BenchResult } from '../../../src/cli/commands/bench.js';
import { Cleanup, runCli, startEchoServer, startServer, T, unusedPort } from '../helpers.js';

function parseResult(stdout: string): BenchResult {
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line on stdout, got:\n${stdout}`);
  return JSON.parse(lines[0]!) as BenchResult;
}

describe('wskit bench', () => {
  it('--local --json -c 2 -n 200: one JSON object with consistent counts', T, async () => {
    const cleanup = new Cleanup();
    try {
      const cli = await runCli(['bench', '--local', '--json', '-c', '2', '-n', '200'], cleanup, {
        ms: 20_000,
      });
      assert.equal(cli.status.code, 0, cli.output);
      const r = parseResult(cli.stdout);
      assert.match(r.url, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
      assert.equal(r.local, true);
      assert.equal(r.connections, 2);
      assert.equal(r.messagesPerConnection, 200);
      assert.equal(r.messages, 400);
      assert.equal(r.size, 64);
      assert.equal(r.window, 16);
      assert.equal(r.binary, true);
      assert.equal(r.bytes, 400 * 64);
      assert.ok(r.durationMs > 0);
      assert.ok(r.msgsPerSec > 0);
      assert.ok(
        Math.abs(r.msgsPerSec - r.messages / (r.durationMs / 1000)) <= r.msgsPerSec * 0.01 + 1,
      );
      assert.ok(r.mbPerSec >= 0);
      const l = r.latencyMs;
      assert.ok(
        l.min > 0 && l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max,
        JSON.stringify(l),
      );
      assert.ok(l.mean >= l.min && l.mean <= l.max);
      assert.ok(l.max <= r.durationMs);
      // No progress bar when stderr is not a terminal.
      assert.equal(cli.stderr, '');
    } finally {
      await cleanup.run();
    }
  });

  it('prints a report against a URL, with text messages and a window', T, async () => {
    const cleanup = new Cleanup();
    try {
      let received = 0;
      const { url } = await startServer(cleanup, {}, (ws) => {
        ws.onmessage = (event) => {
          received++;
          assert.equal(typeof event.data, 'string');
          ws.send(event.data as string);
        };
      });
      const cli = await runCli(
        ['bench', url, '-c', '3', '-n', '50', '-s', '100', '-w', '4', '--text'],
        cleanup,
      );
      assert.equal(cli.status.code, 0, cli.output);
      assert.equal(received, 150);
      assert.match(cli.stdout, /3 connections x 50 messages x 100 bytes \(text\), window 4/);
      assert.match(cli.stdout, /messages {4}150\n/);
      assert.match(cli.stdout, /throughput {2}\d+ msgs\/s, \d+\.\d\d MB\/s\n/);
      assert.match(
        cli.stdout,
        /latency {5}p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms\n/,
      );
    } finally {
      await cleanup.run();
    }
  });

  it('fails (exit 1) against a server that does not echo, or no server', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startServer(cleanup, {}, (ws) => {
        ws.onmessage = () => ws.send('?');
      });
      const wrong = await runCli(['bench', url, '-c', '1', '-n', '5'], cleanup);
      assert.equal(wrong.status.code, 1, wrong.output);
      assert.match(
        wrong.stderr,
        /^wskit: bench: answer 1 on connection 1 was text of 1 byte, expected binary of 64: is .* an echo server\?\n$/,
      );

      const { url: silentUrl } = await startServer(cleanup, {}, () => {});
      const silent = await runCli(
        ['bench', silentUrl, '-c', '1', '-n', '5', '--timeout', '0.3'],
        cleanup,
      );
      assert.equal(silent.status.code, 1, silent.output);
      assert.match(silent.stderr, /no echo for 0\.3 s \(--timeout\)/);

      const port = await unusedPort();
      const refused = await runCli(['bench', `ws://127.0.0.1:${port}/`], cleanup);
      assert.equal(refused.status.code, 1);
      assert.match(refused.stderr, /connection refused \(ERR_WS_CONNECTION_REFUSED\)/);
    } finally {
      await cleanup.run();
    }
  });

  it('works against an echo server with permessage-deflate', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startEchoServer(cleanup, { perMessageDeflate: true });
      const cli = await runCli(
        ['bench', url, '--deflate', '-c', '2', '-n', '20', '-s', '2000', '--json'],
        cleanup,
      );
      assert.equal(cli.status.code, 0, cli.output);
      const r = parseResult(cli.stdout);
      assert.equal(r.deflate, true);
      assert.equal(r.messages, 40);
    } finally {
      await cleanup.run();
    }
  });
});
