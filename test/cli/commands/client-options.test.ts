/**
 * `wskit connect` handshake options: `--auth` (HTTP Basic), `-L` / `--max-redirects`, and a
 * client certificate (`--cert`, `--key`, `--passphrase`) for servers that ask for one.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { selfSignedCertificate } from '../../support/tls.js';
import { Cleanup, hasOpenssl, runCli, startEchoServer, startServer, T } from '../helpers.js';

describe('wskit connect --auth', () => {
  it('sends an HTTP Basic Authorization header', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startServer(cleanup, {
        authenticate: (request) =>
          request.headers.authorization ===
          `Basic ${Buffer.from('ada:s3cret:x').toString('base64')}`,
      });
      const ok = await runCli(['connect', url, '--auth', 'ada:s3cret:x', '--wait', '0'], cleanup);
      assert.equal(ok.status.code, 0, ok.output);
      const wrong = await runCli(['connect', url, '--auth', 'ada:nope', '--wait', '0'], cleanup);
      assert.equal(wrong.status.code, 1, wrong.output);
      assert.match(wrong.stderr, /server refused the upgrade: HTTP 401/);
      const both = await runCli(
        ['connect', url, '--auth', 'a:b', '-H', 'authorization: Bearer x'],
        cleanup,
      );
      assert.equal(both.status.code, 2, both.output);
      assert.match(both.stderr, /--auth and -H "Authorization: \.\.\." cannot be used together/);
    } finally {
      await cleanup.run();
    }
  });
});

describe('wskit connect -L', () => {
  it('follows redirects with -L, at most --max-redirects; says where without', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { port } = await startEchoServer(cleanup);
      // /hop/N redirects to /hop/N-1; /hop/0 to the echo server.
      const redirector = createServer((request, response) => {
        const n = Number(request.url?.split('/')[2] ?? 0);
        const location = n > 0 ? `/hop/${n - 1}` : `ws://127.0.0.1:${port}/`;
        // A length, not chunked framing: the body is not what this test is about.
        response.writeHead(302, { location, 'content-length': 0 }).end();
      });
      await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
      cleanup.add(() => new Promise((resolve) => redirector.close(resolve)));
      const hops = (n: number) =>
        `ws://127.0.0.1:${(redirector.address() as AddressInfo).port}/hop/${n}`;

      const followed = await runCli(
        ['connect', hops(2), '-L', '-x', 'hi', '--wait', '0.2'],
        cleanup,
      );
      assert.equal(followed.status.code, 0, followed.output);
      assert.equal(followed.stdout, 'hi\n');

      const tooMany = await runCli(
        ['connect', hops(2), '-L', '--max-redirects', '2', '-x', 'hi'],
        cleanup,
      );
      assert.equal(tooMany.status.code, 1, tooMany.output);
      assert.match(
        tooMany.stderr,
        /HTTP 302 Found; not followed: more than 2 redirects \(--max-redirects\)$/m,
      );

      const notFollowed = await runCli(['connect', hops(0), '-x', 'hi'], cleanup);
      assert.equal(notFollowed.status.code, 1, notFollowed.output);
      assert.match(
        notFollowed.stderr,
        /HTTP 302 Found; it redirects to ws:\/\/127\.0\.0\.1:\d+\/: connect there, or follow it with -L/,
      );

      const alone = await runCli(['connect', hops(0), '--max-redirects', '1'], cleanup);
      assert.equal(alone.status.code, 2, alone.output);
      assert.match(alone.stderr, /--max-redirects needs -L/);
    } finally {
      await cleanup.run();
    }
  });
});

describe('wskit connect --cert --key --passphrase', {
  skip: !hasOpenssl && 'the openssl CLI is not available',
}, () => {
  it('presents a client certificate to a server that requires one', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { cert, key } = selfSignedCertificate();
      const dir = mkdtempSync(join(tmpdir(), 'wskit-cli-mtls-'));
      cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
      const files = {
        cert: join(dir, 'cert.pem'),
        key: join(dir, 'key.pem'),
        encrypted: join(dir, 'encrypted-key.pem'),
      };
      writeFileSync(files.cert, cert);
      writeFileSync(files.key, key);
      writeFileSync(
        files.encrypted,
        createPrivateKey(key).export({
          type: 'pkcs8',
          format: 'pem',
          cipher: 'aes-256-cbc',
          passphrase: 'open sesame',
        }),
      );
      // The same self-signed certificate is the server's, the client's and the CA of both.
      const { port } = await startServer(
        cleanup,
        { tls: { cert, key, ca: cert, requestCert: true, rejectUnauthorized: true } },
        (ws) => {
          ws.onmessage = (event) => ws.send(event.data as string);
        },
      );
      const url = `wss://localhost:${port}/`;
      const withCert = await runCli(
        [
          'connect',
          url,
          '--ca',
          files.cert,
          '--cert',
          files.cert,
          '--key',
          files.key,
          '-x',
          'mtls',
          '--wait',
          '0.2',
        ],
        cleanup,
      );
      assert.equal(withCert.status.code, 0, withCert.output);
      assert.equal(withCert.stdout, 'mtls\n');

      const encrypted = await runCli(
        [
          'connect',
          url,
          '--ca',
          files.cert,
          '--cert',
          files.cert,
          '--key',
          files.encrypted,
          '--passphrase',
          'open sesame',
          '-x',
          'locked',
          '--wait',
          '0.2',
        ],
        cleanup,
      );
      assert.equal(encrypted.status.code, 0, encrypted.output);
      assert.equal(encrypted.stdout, 'locked\n');

      const without = await runCli(['connect', url, '--ca', files.cert, '-x', 'x'], cleanup);
      assert.equal(without.status.code, 1, without.output);
      assert.equal(without.stdout, '');

      const half = await runCli(['connect', url, '--cert', files.cert], cleanup);
      assert.equal(half.status.code, 2, half.output);
      assert.match(half.stderr, /--cert and --key go together/);
    } finally {
      await cleanup.run();
    }
  });
});
