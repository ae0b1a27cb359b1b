/**
 * `wskit connect` in scripts: raw output (payloads alone on stdout, binary in base64 or hex,
 * the log on stderr), `--raw` at a terminal, binary piped input, and `-P` for pings and pongs.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { Cleanup, hasTmux, runCli, STAMP, startServer, T, Tmux, wskitCommand } from './helpers.js';

describe('wskit connect for scripts', () => {
  it('stdout carries the payloads verbatim; binary as base64, or hex by option', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startServer(cleanup, {}, (ws) => {
        ws.send('{"n":1}');
        ws.send(Buffer.from([0, 1, 2, 0xff]));
        ws.send('bell\x07');
      });
      const base64 = await runCli(['connect', url, '--wait', '0.3'], cleanup);
      assert.equal(base64.status.code, 0, base64.output);
      assert.equal(base64.stdout, '{"n":1}\nAAEC/w==\nbell\x07\n');
      // Everything else is on stderr, with time stamps: status, and no received payload.
      assert.match(base64.stderr, new RegExp(`^${STAMP} \\* connecting to ws://`));
      assert.match(base64.stderr, /connection closed: 1000 \(normal\)\n$/);
      assert.doesNotMatch(base64.stderr, /n":1|AAEC|bell/);

      const hex = await runCli(
        ['connect', url, '--binary-output', 'hex', '--json', '--wait', '0.3'],
        cleanup,
      );
      assert.equal(hex.status.code, 0, hex.output);
      assert.equal(hex.stdout, '{\n  "n": 1\n}\n000102ff\nbell\x07\n');
    } finally {
      await cleanup.run();
    }
  });

  it('--binary-input sends each piped line as a binary message', T, async () => {
    const cleanup = new Cleanup();
    try {
      const received: Array<string | Buffer> = [];
      const { url } = await startServer(cleanup, {}, (ws) => {
        ws.onmessage = (event) => received.push(event.data as string | Buffer);
      });
      const hex = await runCli(
        ['connect', url, '--binary-input', 'hex', '--wait', '0.2'],
        cleanup,
        {
          input: '48 69 00 ff\n0x0102\n',
        },
      );
      assert.equal(hex.status.code, 0, hex.output);
      const b64 = await runCli(
        ['connect', url, '--binary-input', 'base64', '-x', 'AAEC/w==', '--wait', '0.2'],
        cleanup,
      );
      assert.equal(b64.status.code, 0, b64.output);
      assert.deepEqual(received, [
        Buffer.from([0x48, 0x69, 0, 0xff]),
        Buffer.from([1, 2]),
        Buffer.from([0, 1, 2, 0xff]),
      ]);

      // A line that is not base64 is reported and not sent; the others are; the exit status is 1.
      received.length = 0;
      const bad = await runCli(
        ['connect', url, '--binary-input', 'base64', '--wait', '0.2'],
        cleanup,
        { input: 'AQ==\nnot base64!\nAg==\n' },
      );
      assert.equal(bad.status.code, 1, bad.output);
      assert.match(bad.stderr, /! not sent: "not base64!" is not base64 \(--binary-input\)/);
      assert.deepEqual(received, [Buffer.from([1]), Buffer.from([2])]);

      const usage = await runCli(['connect', url, '--binary-input', 'hex', '-x', 'zz'], cleanup);
      assert.equal(usage.status.code, 2, usage.output);
      assert.match(usage.stderr, /^wskit: --execute "zz" is not hex \(--binary-input\)\n$/);
      const choice = await runCli(['connect', url, '--binary-input', 'octal'], cleanup);
      assert.equal(choice.status.code, 2, choice.output);
      assert.match(choice.stderr, /--binary-input must be base64 or hex, got "octal"/);
    } finally {
      await cleanup.run();
    }
  });

  it('-P shows the pings that arrive and the pongs of --ping', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startServer(cleanup, {}, (ws) => {
        ws.ping('are you there');
      });
      const shown = await runCli(['connect', url, '-P', '--ping', '0.1', '--wait', '0.5'], cleanup);
      assert.equal(shown.status.code, 0, shown.output);
      assert.match(shown.stderr, new RegExp(`${STAMP} < ping "are you there"\\n`));
      assert.match(shown.stderr, new RegExp(`${STAMP} < pong ""\\n`));
      assert.equal(shown.stdout, '');

      const hidden = await runCli(['connect', url, '--ping', '0.1', '--wait', '0.5'], cleanup);
      assert.equal(hidden.status.code, 0, hidden.output);
      assert.doesNotMatch(hidden.output, /ping "|pong/);
    } finally {
      await cleanup.run();
    }
  });

  it('--raw and --no-raw cannot be combined; --binary needs the log view', T, async () => {
    const cleanup = new Cleanup();
    try {
      const both = await runCli(['connect', 'ws://127.0.0.1:1/', '--raw', '--no-raw'], cleanup);
      assert.equal(both.status.code, 2);
      assert.match(both.stderr, /--raw and --no-raw cannot be used together/);
      const dump = await runCli(['connect', 'ws://127.0.0.1:1/', '--binary'], cleanup);
      assert.equal(dump.status.code, 2);
      assert.match(dump.stderr, /use --binary-output hex, or --no-raw for the log/);
    } finally {
      await cleanup.run();
    }
  });

  it('--raw at a terminal: stdout has the payloads alone', {
    ...T,
    skip: hasTmux ? false : 'tmux is not installed',
  }, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startServer(cleanup, {}, (ws) => {
        ws.onmessage = (event) => ws.send(`echo: ${String(event.data)}`);
      });
      const command = wskitCommand('connect', url, '--raw', '-x', 'hi', '--wait', '0.3');
      const quoted = command.map((a) => `'${a}'`).join(' ');
      const tmux = new Tmux(['sh', '-c', `${quoted} 2>/dev/null`], cleanup);
      const screen = await tmux.waitFor(/\[exit \d+\]/);
      assert.match(screen, /^echo: hi\n\[exit 0\]$/m);
      assert.doesNotMatch(screen, new RegExp(STAMP));
    } finally {
      await cleanup.run();
    }
  });
});
