/**
 * `wskit serve` with `wskit connect` as its client: the first line, connection logs, echo and
 * broadcast, subprotocols, graceful shutdown on SIGINT / SIGTERM, TLS, and port errors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from '../../../src/index.js';
import { CLI_WAIT_MS } from '../../support/timeouts.js';
import {
  Cleanup,
  Cli,
  hasOpenssl,
  hasTmux,
  makeCertificate,
  runCli,
  STAMP,
  startEchoServer,
  T,
  Tmux,
  wskitCommand,
} from '../helpers.js';

/** A client of the library's own, with every message it gets collected. */
async function client(url: string, cleanup: Cleanup): Promise<{ ws: WebSocket; got: string[] }> {
  const ws = await WebSocket.connect(url);
  cleanup.add(() => ws.terminate());
  const got: string[] = [];
  ws.addEventListener('message', (event) => got.push(String(event.data)));
  return { ws, got };
}

/** Resolves once `check` holds, polling; fails after CLI_WAIT_MS. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + CLI_WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts `wskit serve args` and resolves with it and the URL of its first line. */
async function serve(
  args: readonly string[],
  cleanup: Cleanup,
): Promise<{ server: Cli; url: string; port: number }> {
  const server = new Cli(['serve', ...args], cleanup);
  const [line, url, port] = await server.waitFor(/^listening on (wss?:\/\/127\.0\.0\.1:(\d+))\n/);
  assert.ok(line);
  return { server, url: url!, port: Number(port) };
}

describe('wskit serve', () => {
  it(
    'prints "listening on" first, echoes, logs, and on SIGINT closes clients with 1001',
    T,
    async () => {
      const cleanup = new Cleanup();
      try {
        const { server, url } = await serve(['--port', '0'], cleanup);
        assert.match(server.stdout, /^listening on ws:\/\/127\.0\.0\.1:\d+\n$/);
        const client = new Cli(['connect', `${url}/room?x=1`], cleanup);
        client.write('ping me\n');
        await client.waitFor(/^ping me\n/);
        await server.waitFor(
          new RegExp(
            `${STAMP} \\+ 127\\.0\\.0\\.1:\\d+ connected, path /room\\?x=1, protocol none\\n`,
          ),
        );
        server.child.kill('SIGINT');
        await server.waitFor(/SIGINT: closing 1 connection with 1001 \(going away\)/);
        assert.deepEqual(await server.exit(), { code: 0, signal: null }, server.output);
        await client.waitFor(
          /connection closed by the server: 1001 \(going away\) "server shutting down"/,
          'stderr',
        );
        assert.equal((await client.exit()).code, 0, client.output);
        assert.match(
          server.stdout,
          new RegExp(`${STAMP} - 127\\.0\\.0\\.1:\\d+ closed 1001 \\(going away\\), 1 message\\n`),
        );
        assert.match(server.stdout, /server closed\n$/);
      } finally {
        await cleanup.run();
      }
    },
  );

  it('logs the close code and reason a client sent; stops on SIGTERM', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { server, url } = await serve(['--port', '0'], cleanup);
      const client = await runCli(['connect', url, '-x', 'hi', '--wait', '0.1'], cleanup);
      assert.equal(client.status.code, 0, client.output);
      await server.waitFor(/closed 1000 \(normal\), 1 message\n/);
      server.child.kill('SIGTERM');
      assert.equal((await server.exit()).code, 0, server.output);
    } finally {
      await cleanup.run();
    }
  });

  it('--broadcast sends every message to every client', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { server, url } = await serve(['--port', '0', '--broadcast'], cleanup);
      const alice = new Cli(['connect', url, '--wait', '0'], cleanup);
      const bob = new Cli(['connect', url, '--wait', '0'], cleanup);
      await alice.waitFor(/connected to/, 'stderr');
      await bob.waitFor(/connected to/, 'stderr');
      await server.waitFor(/connected(.|\n)*connected/);
      alice.write('from alice\n');
      await bob.waitFor(/^from alice$/m);
      await alice.waitFor(/^from alice$/m);
      bob.write('from bob\n');
      await alice.waitFor(/^from bob$/m);
      alice.end();
      bob.end();
      assert.equal((await alice.exit()).code, 0, alice.output);
      assert.equal((await bob.exit()).code, 0, bob.output);
      server.child.kill('SIGINT');
      assert.equal((await server.exit()).code, 0, server.output);
    } finally {
      await cleanup.run();
    }
  });

  it('--protocol accepts only the listed subprotocols', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { server, url } = await serve(
        ['--port', '0', '--protocol', 'b', '--protocol', 'c'],
        cleanup,
      );
      const chosen = await runCli(
        ['connect', url, '--protocol', 'a', '--protocol', 'c', '--wait', '0'],
        cleanup,
      );
      assert.match(chosen.stderr, /connected to .* \(protocol "c"\)/);
      const none = await runCli(['connect', url, '--protocol', 'a', '--wait', '0'], cleanup);
      assert.equal(none.status.code, 0, none.output);
      assert.doesNotMatch(none.stderr, /protocol "/);
      await server.waitFor(/protocol "c"\n(.|\n)*protocol none\n/);
    } finally {
      await cleanup.run();
    }
  });

  it('--deflate accepts permessage-deflate', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await serve(['--port', '0', '--deflate'], cleanup);
      const cli = await runCli(['connect', url, '-x', 'squeeze me', '--wait', '0.2'], cleanup);
      assert.equal(cli.status.code, 0, cli.output);
      assert.match(cli.stderr, /extensions "permessage-deflate/);
      assert.equal(cli.stdout, 'squeeze me\n');
    } finally {
      await cleanup.run();
    }
  });

  it('reports a port in use (exit 1) and bad options (exit 2)', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { port } = await startEchoServer(cleanup);
      const busy = await runCli(['serve', '--port', String(port)], cleanup);
      assert.equal(busy.status.code, 1, busy.output);
      assert.match(
        busy.stderr,
        /^wskit: cannot listen on 127\.0\.0\.1:\d+: the port is in use \(ERR_WS_ADDRESS_IN_USE\); pick another with --port, or --port 0 for any free port\n$/,
      );
      const bad = await runCli(['serve', '--port', '99999'], cleanup);
      assert.equal(bad.status.code, 2);
      assert.match(
        bad.stderr,
        /^wskit: --port must be a whole number from 0 to 65535, got "99999"\n$/,
      );
      const both = await runCli(['serve', '--echo', '--broadcast'], cleanup);
      assert.equal(both.status.code, 2);
      assert.match(both.stderr, /--echo and --broadcast cannot be used together/);
      const half = await runCli(['serve', '--tls-cert', 'cert.pem'], cleanup);
      assert.equal(half.status.code, 2);
      assert.match(half.stderr, /--tls-cert and --tls-key go together/);
      const missing = await runCli(
        ['serve', '--tls-cert', 'nope.pem', '--tls-key', 'nope.pem'],
        cleanup,
      );
      assert.equal(missing.status.code, 2);
      assert.match(missing.stderr, /cannot read the --tls-cert file "nope\.pem": no such file/);
    } finally {
      await cleanup.run();
    }
  });
});

describe('wskit serve --interactive', () => {
  it('sends each piped line to every client, logs theirs, echoes nothing', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { server, url } = await serve(['--port', '0', '-i'], cleanup);
      const alice = await client(url, cleanup);
      const bob = await client(url, cleanup);
      await server.waitFor(/connected(.|\n)*connected/);
      server.write('hello, everyone\n');
      await until(() => alice.got.length === 1 && bob.got.length === 1, 'the line at both');
      assert.deepEqual([alice.got, bob.got], [['hello, everyone'], ['hello, everyone']]);
      await server.waitFor(new RegExp(`${STAMP} > "hello, everyone" to 2 clients\n`));

      alice.ws.send('from alice');
      await server.waitFor(/< 127\.0\.0\.1:\d+ "from alice"\n/);
      // Not echoed: only what was typed reaches the clients.
      server.write('second\n');
      await until(() => alice.got.length === 2, 'the second line');
      assert.deepEqual(alice.got, ['hello, everyone', 'second']);

      // The end of piped input ends the input, not the server.
      server.end();
      await server.waitFor(/input ended; still serving/);
      server.child.kill('SIGINT');
      assert.equal((await server.exit()).code, 0, server.output);
    } finally {
      await cleanup.run();
    }
  });

  it('at a terminal: a prompt, typed lines go to the clients, Ctrl-D stops', {
    ...T,
    skip: hasTmux ? false : 'tmux is not installed',
  }, async () => {
    const cleanup = new Cleanup();
    try {
      const tmux = new Tmux(wskitCommand('serve', '--port', '0', '--interactive'), cleanup);
      const first = await tmux.waitFor(/^listening on ws:\/\/127\.0\.0\.1:\d+\n> ?$/m);
      const url = /listening on (ws:\/\/\S+)/.exec(first)![1]!;
      const alice = await client(url, cleanup);
      await tmux.waitFor(/connected, path \/, protocol none\n> ?$/m);
      tmux.send('-l', 'typed here');
      tmux.send('Enter');
      await until(() => alice.got.length === 1, 'the typed line');
      assert.deepEqual(alice.got, ['typed here']);
      const screen = await tmux.waitFor(/> "typed here" to 1 client\n> ?$/m);
      assert.doesNotMatch(screen, /^> typed here$/m);
      const closed = new Promise<number>((resolve) =>
        alice.ws.addEventListener('close', (event) => resolve(event.code)),
      );
      tmux.send('C-d');
      assert.equal(await closed, 1001);
      const end = await tmux.waitFor(/\[exit \d+\]/);
      assert.match(
        end,
        /end of input: closing 1 connection with 1001(.|\n)*server closed\n\[exit 0\]/,
      );
    } finally {
      await cleanup.run();
    }
  });
});

describe('wskit serve --tls-cert and connect over wss:', {
  skip: !hasOpenssl && 'the openssl CLI is not available',
}, () => {
  it(
    'refuses a self-signed certificate, suggesting --ca or --insecure, and works with them',
    T,
    async () => {
      const cleanup = new Cleanup();
      try {
        const { cert, key } = makeCertificate(cleanup);
        const { server, url, port } = await serve(
          ['--port', '0', '--tls-cert', cert, '--tls-key', key],
          cleanup,
        );
        assert.match(url, /^wss:\/\//);

        const refused = await runCli(['connect', url, '-x', 'hi', '--wait', '0'], cleanup);
        assert.equal(refused.status.code, 1, refused.output);
        assert.match(
          refused.stderr,
          /\nwskit: the server's TLS certificate was refused \(DEPTH_ZERO_SELF_SIGNED_CERT\) \(ERR_WS_TLS_CERTIFICATE\); pass its CA certificate with --ca <file>, or --insecure to skip verification \(testing only\)\n$/,
        );

        const insecure = await runCli(
          ['connect', url, '--insecure', '-x', 'hi', '--wait', '0.2'],
          cleanup,
        );
        assert.equal(insecure.status.code, 0, insecure.output);
        assert.equal(insecure.stdout, 'hi\n');

        const trusted = await runCli(
          ['connect', `wss://localhost:${port}/`, '--ca', cert, '-x', 'trusted', '--wait', '0.2'],
          cleanup,
        );
        assert.equal(trusted.status.code, 0, trusted.output);
        assert.equal(trusted.stdout, 'trusted\n');

        const plain = await runCli(['connect', `ws://127.0.0.1:${port}/`, '--wait', '0'], cleanup);
        assert.equal(plain.status.code, 1);
        assert.match(plain.stderr, /if the server uses TLS, use wss:\/\//);

        server.child.kill('SIGINT');
        assert.equal((await server.exit()).code, 0, server.output);
      } finally {
        await cleanup.run();
      }
    },
  );
});
