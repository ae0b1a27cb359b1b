/**
 * `wskit connect` driven through pipes: piped stdin, --execute, display options, handshake
 * options, close codes and exit status, reconnect and heartbeat.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import type { WebSocket } from '../../../src/index.js';
import { Cleanup, Cli, runCli, STAMP, startEchoServer, startServer, T } from '../helpers.js';

describe('wskit connect', () => {
  it('sends piped lines; stdout carries only the echoes, the log goes to stderr', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url, server } = await startEchoServer(cleanup);
      const closes: number[] = [];
      server.on('connection', (ws) => ws.addEventListener('close', (e) => closes.push(e.code)));
      const cli = await runCli(['connect', url, '--wait', '0.5'], cleanup, {
        input: 'hello\nsecond line\n',
      });
      assert.equal(cli.status.code, 0, cli.output);
      // stdout is a pipe here: the received messages alone, one per line, in order.
      assert.equal(cli.stdout, 'hello\nsecond line\n');
      assert.match(cli.stderr, new RegExp(`${STAMP} > hello\\n${STAMP} > second line\\n`));
      assert.match(cli.stderr, /connection closed: 1000 \(normal\)/);
      assert.doesNotMatch(cli.stderr, /< hello/);
      assert.deepEqual(closes, [1000]);
    } finally {
      await cleanup.run();
    }
  });

  it('sends lines typed before the connection opened, and waits for input to end', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startEchoServer(cleanup);
      const cli = new Cli(['connect', url, '--wait', '0.2'], cleanup);
      cli.write('early\n');
      await cli.waitFor(/^early$/m);
      cli.write('later\n');
      await cli.waitFor(/^later$/m);
      // Still open: input has not ended.
      assert.equal(cli.child.exitCode, null);
      cli.end();
      const status = await cli.exit();
      assert.equal(status.code, 0, cli.output);
    } finally {
      await cleanup.run();
    }
  });

  it('--execute sends each message, prints replies and exits after --wait', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startEchoServer(cleanup);
      const started = Date.now();
      const cli = await runCli(
        ['connect', url, '-x', 'one', '--execute', 'two', '--wait', '0.3'],
        cleanup,
      );
      assert.equal(cli.status.code, 0, cli.output);
      assert.match(cli.stderr, new RegExp(`${STAMP} > one\\n${STAMP} > two\\n`));
      assert.equal(cli.stdout, 'one\ntwo\n');
      assert.ok(Date.now() - started >= 300, 'waited for replies');
    } finally {
      await cleanup.run();
    }
  });

  it('--json pretty-prints JSON messages; --binary shows a hex dump', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startServer(cleanup, {}, (ws) => {
        ws.send('{"user":"ada","tags":["x","y"]}');
        ws.send('not {json');
        ws.send(Buffer.from('hello, binary world\x00\x01\xff', 'latin1'));
      });
      // --no-raw: the log view on stdout although it is a pipe.
      const pretty = await runCli(
        ['connect', url, '--no-raw', '--json', '--binary', '--wait', '0.3'],
        cleanup,
      );
      assert.equal(pretty.status.code, 0, pretty.output);
      assert.match(
        pretty.stdout,
        new RegExp(`${STAMP} < \\{\\n {17}"user": "ada",\\n {17}"tags": \\[\\n {19}"x",`),
      );
      assert.match(pretty.stdout, /< not \{json\n/);
      assert.match(
        pretty.stdout,
        /< \[binary, 22 bytes\]\n {15}00000000 {2}68 65 6c 6c 6f 2c 20 62 {2}69 6e 61 72 79 20 77 6f {2}\|hello, binary wo\|\n {15}00000010 {2}72 6c 64 00 01 ff/,
      );

      const plain = await runCli(['connect', url, '--no-raw', '--wait', '0.3'], cleanup);
      assert.match(plain.stdout, /< \{"user":"ada","tags":\["x","y"\]\}\n/);
      assert.match(
        plain.stdout,
        /< \[binary, 22 bytes\] 68656c6c6f2c2062696e61727920776f726c640001ff\n/,
      );
    } finally {
      await cleanup.run();
    }
  });

  it('shows control characters escaped instead of sending them to the terminal', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startServer(cleanup, {}, (ws) => ws.send('red \x1b[31mtext\x07'));
      const cli = await runCli(['connect', url, '--no-raw', '--wait', '0.2'], cleanup);
      assert.match(cli.stdout, /< red \\x1b\[31mtext\\x07\n/);
      assert.ok(!cli.stdout.includes('\u001b'), 'no escape character reaches the terminal');
    } finally {
      await cleanup.run();
    }
  });

  it('sends --protocol, -H headers and --origin in the handshake', T, async () => {
    const cleanup = new Cleanup();
    try {
      let request: IncomingMessage | undefined;
      const { url } = await startServer(
        cleanup,
        {
          handleProtocols: (offered) => (offered.has('chat.v2') ? 'chat.v2' : false),
          authenticate: (req) => {
            request = req;
            return true;
          },
        },
        () => {},
      );
      const cli = await runCli(
        [
          'connect',
          url,
          '--protocol',
          'chat.v1',
          '--protocol',
          'chat.v2',
          '-H',
          'Authorization: Bearer abc',
          '--header',
          'X-Trace:  42 ',
          '--origin',
          'https://app.example',
          '--wait',
          '0',
        ],
        cleanup,
      );
      assert.equal(cli.status.code, 0, cli.output);
      assert.match(cli.stderr, /connected to ws:\/\/127\.0\.0\.1:\d+\/ \(protocol "chat\.v2"/);
      assert.ok(request);
      assert.equal(request.headers['sec-websocket-protocol'], 'chat.v1, chat.v2');
      assert.equal(request.headers.authorization, 'Bearer abc');
      assert.equal(request.headers['x-trace'], '42');
      assert.equal(request.headers.origin, 'https://app.example');
    } finally {
      await cleanup.run();
    }
  });

  it(
    'exits 0 when the server closes with 1001, 1 for 1011 or a dropped connection',
    T,
    async () => {
      const cleanup = new Cleanup();
      try {
        const cases: Array<[string, (ws: WebSocket) => void, number, RegExp]> = [
          [
            '/going-away',
            (ws) => ws.close(1001, 'bye'),
            0,
            /closed by the server: 1001 \(going away\) "bye"/,
          ],
          [
            '/error',
            (ws) => ws.close(1011, 'oops'),
            1,
            /closed by the server: 1011 \(internal error\) "oops"/,
          ],
          [
            '/drop',
            (ws) => ws.terminate(),
            1,
            /connection lost: 1006 \(abnormal\), without a closing handshake/,
          ],
        ];
        const { port } = await startServer(cleanup, {}, (ws, path) => {
          setTimeout(() => cases.find(([p]) => p === path)![1](ws), 50);
        });
        for (const [path, , expected, shown] of cases) {
          const cli = new Cli(['connect', `ws://127.0.0.1:${port}${path}`], cleanup);
          const status = await cli.exit();
          assert.equal(status.code, expected, `${path}\n${cli.output}`);
          assert.match(cli.stderr, shown);
        }
      } finally {
        await cleanup.run();
      }
    },
  );

  it('--reconnect reconnects after a lost connection and keeps the session', T, async () => {
    const cleanup = new Cleanup();
    try {
      let connections = 0;
      const { url } = await startServer(cleanup, {}, (ws) => {
        connections++;
        ws.onmessage = (event) => ws.send(`${connections}:${String(event.data)}`);
        // The first connection is dropped after its first message.
        if (connections === 1)
          ws.addEventListener('message', () => setTimeout(() => ws.terminate(), 20));
      });
      const cli = new Cli(['connect', url, '--reconnect', '--wait', '0.2'], cleanup);
      cli.write('a\n');
      await cli.waitFor(/^1:a$/m);
      await cli.waitFor(/disconnected: 1006/, 'stderr');
      await cli.waitFor(/reconnecting in \d+ ms \(attempt 1\)/, 'stderr');
      await cli.waitFor(/connected to .*\n(.*\n)*.*connected to/, 'stderr');
      cli.write('b\n');
      await cli.waitFor(/^2:b$/m);
      cli.end();
      const status = await cli.exit();
      assert.equal(status.code, 0, cli.output);
    } finally {
      await cleanup.run();
    }
  });

  it('--ping sends heartbeat pings', T, async () => {
    const cleanup = new Cleanup();
    try {
      let pinged!: () => void;
      const ping = new Promise<void>((resolve) => {
        pinged = resolve;
      });
      const { url } = await startServer(cleanup, {}, (ws) => {
        ws.addEventListener('ping', () => pinged());
      });
      const cli = new Cli(['connect', url, '--ping', '0.1', '--wait', '0'], cleanup);
      await cli.waitFor(/connected to/, 'stderr');
      await ping;
      cli.end();
      assert.equal((await cli.exit()).code, 0, cli.output);
      // Heartbeat pongs are not shown (without -P).
      assert.doesNotMatch(cli.output, /pong/);
    } finally {
      await cleanup.run();
    }
  });

  it('treats slash commands as text when stdin is not a terminal', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startEchoServer(cleanup);
      const cli = await runCli(['connect', url, '--wait', '0.3'], cleanup, { input: '/quit\n' });
      assert.equal(cli.status.code, 0, cli.output);
      assert.equal(cli.stdout, '/quit\n');
    } finally {
      await cleanup.run();
    }
  });

  it('SIGINT closes the connection with 1000 and exits 0', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startEchoServer(cleanup);
      const cli = new Cli(['connect', url], cleanup);
      await cli.waitFor(/connected to/, 'stderr');
      cli.child.kill('SIGINT');
      assert.deepEqual(await cli.exit(), { code: 0, signal: null }, cli.output);
      assert.match(cli.stderr, /connection closed: 1000 \(normal\)\n$/);
    } finally {
      await cleanup.run();
    }
  });
});
