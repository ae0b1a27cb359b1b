/**
 * What `wskit` says when something is wrong: one line on stderr with what to try, and the exit
 * status (2 for bad usage, 1 for failures). Also --help and --version.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Cleanup, ROOT, runCli, STAMP, startServer, T, unusedPort } from './helpers.js';

/**
 * Asserts one `wskit: ...` line on stderr matching `pattern`; any other line there is the
 * session's time-stamped log (stdout is not a terminal in these tests).
 */
function oneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter(Boolean);
  const errors = lines.filter((line) => line.startsWith('wskit: '));
  assert.equal(errors.length, 1, `one wskit: line on stderr, got:\n${stderr}`);
  assert.match(errors[0]!, pattern);
  for (const line of lines)
    if (!line.startsWith('wskit: ')) assert.match(line, new RegExp(`^${STAMP} [*!>] `), stderr);
}

describe('wskit usage errors (exit 2)', () => {
  const cases: Array<[string[], RegExp]> = [
    [
      ['connect', 'not a url'],
      /^wskit: invalid URL "not a url", expected ws:\/\/host\[:port\]\/path or wss:\/\/\.\.\.$/,
    ],
    [
      ['connect', 'localhost:8080'],
      /invalid URL "localhost:8080".*did you mean ws:\/\/localhost:8080\?/,
    ],
    [
      ['connect', 'ftp://example.org/'],
      /invalid URL "ftp:\/\/example\.org\/" \(unsupported scheme ftp:\)/,
    ],
    [['connect', 'ws://example.org/#top'], /cannot have a #fragment/],
    [['connect'], /connect needs a URL, e.g\. wskit connect ws:\/\/127\.0\.0\.1:8080\//],
    [['connect', 'ws://a/', '--bogus'], /unknown option --bogus; see "wskit connect --help"/],
    [
      ['connect', 'ws://a/', '--protocl', 'x'],
      /unknown option --protocl \(did you mean --protocol\?\)/,
    ],
    [
      ['connect', 'ws://a/', '-H'],
      /option -H needs a value "Name: value"; see "wskit connect --help"/,
    ],
    [
      ['connect', 'ws://a/', '--header', 'no colon'],
      /invalid header "no colon": expected "Name: value"/,
    ],
    [['connect', 'ws://a/', '--wait', 'soon'], /--wait must be a number of at least 0, got "soon"/],
    [['connect', 'ws://a/', '--json=yes'], /option --json takes no value/],
    [['connect', 'ws://a/', '--protocol', 'two words'], /invalid subprotocol "two words"/],
    [['connect', 'ws://a/', '--ca', '/nonexistent/ca.pem'], /cannot read the --ca file/],
    [['connect', 'ws://a/', 'hello'], /connect takes one URL, got 2 arguments/],
    [['frobnicate'], /unknown command "frobnicate"; the commands are connect, serve and bench/],
    [['ws://example.org/'], /did you mean "wskit connect ws:\/\/example\.org\/"\?/],
    [['--bogus'], /unknown option --bogus; see "wskit --help"/],
    [['bench'], /bench needs the URL of an echo server, or --local/],
    [['bench', '--local', '-n', '0'], /--messages must be a whole number from 1 to/],
    [['bench', '--local', '--binary', '--text'], /--binary and --text cannot be used together/],
    [['help', 'nothing'], /no help for "nothing"/],
  ];
  for (const [args, pattern] of cases) {
    it(`wskit ${args.join(' ')}`, T, async () => {
      const cleanup = new Cleanup();
      try {
        const cli = await runCli(args, cleanup);
        assert.equal(cli.status.code, 2, cli.output);
        oneLine(cli.stderr, pattern);
        assert.equal(cli.stdout, '');
      } finally {
        await cleanup.run();
      }
    });
  }
});

describe('wskit connection errors (exit 1)', () => {
  it('a refused port says connection refused, with the error code', T, async () => {
    const cleanup = new Cleanup();
    try {
      const port = await unusedPort();
      const cli = await runCli(['connect', `ws://127.0.0.1:${port}/`], cleanup);
      assert.equal(cli.status.code, 1, cli.output);
      oneLine(
        cli.stderr,
        new RegExp(
          `^wskit: cannot connect to 127\\.0\\.0\\.1:${port}: connection refused \\(ERR_WS_CONNECTION_REFUSED\\); is a server listening on that host and port\\?$`,
        ),
      );
    } finally {
      await cleanup.run();
    }
  });

  it('a refused handshake shows the HTTP status', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startServer(cleanup, {
        authenticate: () => ({ status: 403, body: 'members only' }),
      });
      const cli = await runCli(['connect', url, '-x', 'hi'], cleanup);
      assert.equal(cli.status.code, 1, cli.output);
      oneLine(
        cli.stderr,
        /^wskit: server refused the upgrade: HTTP 403 Forbidden \(members only\); the server wants credentials or another origin: try -H "Authorization: \.\.\." or --origin$/,
      );
      assert.doesNotMatch(cli.stderr, /> hi/);
      assert.equal(cli.stdout, '');
    } finally {
      await cleanup.run();
    }
  });

  it('an unknown host says so', T, async () => {
    const cleanup = new Cleanup();
    try {
      const cli = await runCli(['connect', 'ws://wskit-test.invalid/'], cleanup, { ms: 15_000 });
      assert.equal(cli.status.code, 1, cli.output);
      oneLine(
        cli.stderr,
        /cannot resolve the host "wskit-test\.invalid" \(ERR_WS_HOST_NOT_FOUND\)/,
      );
    } finally {
      await cleanup.run();
    }
  });

  it('a server that does not answer the handshake times out after --timeout', T, async () => {
    const cleanup = new Cleanup();
    try {
      const silent = createServer((socket) => cleanup.add(() => socket.destroy()));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      cleanup.add(() => silent.close());
      const { port } = silent.address() as AddressInfo;
      const cli = await runCli(['connect', `ws://127.0.0.1:${port}/`, '--timeout', '0.3'], cleanup);
      assert.equal(cli.status.code, 1, cli.output);
      oneLine(cli.stderr, /did not answer the handshake in time \(ERR_WS_HANDSHAKE_TIMEOUT\)/);
    } finally {
      await cleanup.run();
    }
  });
});

describe('wskit --help and --version', () => {
  it('--version prints the version of package.json', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };
      const cli = await runCli(['--version'], cleanup);
      assert.equal(cli.status.code, 0);
      assert.equal(cli.stdout, `${version}\n`);
    } finally {
      await cleanup.run();
    }
  });

  it(
    '--help lists the commands; <command> --help and help <command> list its options',
    T,
    async () => {
      const cleanup = new Cleanup();
      try {
        const top = await runCli(['--help'], cleanup);
        assert.equal(top.status.code, 0);
        for (const command of ['connect <url>', 'serve', 'bench'])
          assert.ok(top.stdout.includes(`wskit ${command}`));
        for (const [command, options] of [
          [
            'connect',
            ['--protocol <p>', '-H, --header', '--insecure', '--execute', '/binary <hex>'],
          ],
          ['serve', ['--port <port>', '--broadcast', '--tls-cert <file>']],
          ['bench', ['-c, --connections <n>', '-w, --window <n>', '--local', '--json']],
        ] as const) {
          const help = await runCli([command, '--help'], cleanup);
          assert.equal(help.status.code, 0);
          assert.ok(help.stdout.startsWith(`Usage: wskit ${command}`), help.stdout);
          for (const option of options)
            assert.ok(help.stdout.includes(option), `${command}: ${option}`);
          const again = await runCli(['help', command], cleanup);
          assert.equal(again.stdout, help.stdout);
        }
      } finally {
        await cleanup.run();
      }
    },
  );
});
