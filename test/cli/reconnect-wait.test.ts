/**
 * `wskit connect --reconnect -x ... --wait N` against a server that accepts and then drops
 * every connection: each run ends soon after its wait (counted from the message's send, as its
 * log line stamps it), never before it. "Soon" is a few seconds: a process's exit reaches this
 * parent late on a loaded machine, while a wait that reconnections extended would not end at all
 * (the server drops every connection, so reconnections never stop).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cleanup, Cli, startServer } from './helpers.js';

const RUNS = 20;
const WAIT_S = 1.5;
const CONCURRENCY = 5;
/** How late after --wait an exit may be seen: process start-up and exit under load. */
const MARGIN_MS = 4000;

/** Milliseconds since local midnight of `HH:MM:SS.mmm` (the CLI's time stamps). */
function stampMs(stamp: string): number {
  const [h, m, s, ms] = stamp.split(/[:.]/).map(Number) as [number, number, number, number];
  return ((h * 60 + m) * 60 + s) * 1000 + ms;
}

/** Milliseconds since local midnight of `date`, as {@link stampMs} counts. */
function dayMs(date: Date): number {
  return (
    ((date.getHours() * 60 + date.getMinutes()) * 60 + date.getSeconds()) * 1000 +
    date.getMilliseconds()
  );
}

describe('wskit connect --reconnect --wait', () => {
  it(`${RUNS} concurrent runs against a server that drops every connection all exit within ${MARGIN_MS / 1000} s of --wait`, {
    timeout: 90_000,
  }, async (t) => {
    const cleanup = new Cleanup();
    try {
      let connections = 0;
      const { url } = await startServer(cleanup, {}, (ws) => {
        connections++;
        // Accept, then drop without a closing handshake.
        setTimeout(() => ws.terminate(), 30);
      });
      /** One run: resolves with its path, output, exit, and the local time of the exit. */
      const run = async (i: number) => {
        const path = `/run-${i}`;
        const cli = new Cli(
          [
            'connect',
            `${url.slice(0, -1)}${path}`,
            '--reconnect',
            '-x',
            'msg',
            '--wait',
            `${WAIT_S}`,
          ],
          cleanup,
        );
        // Stamped when it happens, not when it is awaited.
        const exitedAt = cli.exited.then((exit) => ({ exit, at: new Date() }));
        let timer: NodeJS.Timeout | undefined;
        const { exit, at } = await Promise.race([
          exitedAt,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`${path} did not exit within 30 s\n${cli.output}`)),
              30_000,
            );
          }),
        ]).finally(() => clearTimeout(timer));
        return { path, cli, exit, at };
      };
      // Concurrently, CONCURRENCY at a time: bounded test time without a burst of processes
      // whose start-up load would blur the timing being measured.
      const results: Array<Awaited<ReturnType<typeof run>>> = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < RUNS) results.push(await run(next++));
        }),
      );
      assert.equal(results.length, RUNS);
      const waits: number[] = [];
      for (const { path, cli, exit, at } of results) {
        assert.equal(exit.signal, null, `${path}\n${cli.output}`);
        assert.ok(exit.code === 0 || exit.code === 1, `${path}: exit ${exit.code}\n${cli.output}`);
        // The wait starts when the message is sent: the time stamp of its "> msg" log line.
        const sent = /^(\d\d:\d\d:\d\d\.\d\d\d) > msg$/m.exec(cli.stderr);
        assert.ok(sent, `${path}: the message was never sent\n${cli.output}`);
        const waited = (dayMs(at) - stampMs(sent[1]!) + 86_400_000) % 86_400_000;
        waits.push(waited);
        assert.ok(waited >= WAIT_S * 1000, `${path}: exited ${waited} ms after sending`);
        assert.ok(
          waited <= WAIT_S * 1000 + MARGIN_MS,
          `${path}: exited ${waited} ms after sending, over --wait ${WAIT_S} s by more than ${MARGIN_MS} ms\n${cli.output}`,
        );
      }
      t.diagnostic(`exit after the send: ${Math.min(...waits)}-${Math.max(...waits)} ms`);
      // The server did drop them: the runs went through reconnections.
      assert.ok(connections > RUNS, `${connections} connections for ${RUNS} runs`);
    } finally {
      await cleanup.run();
    }
  });
});
