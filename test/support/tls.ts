/**
 * A throw-away TLS certificate for tests: self-signed for localhost and 127.0.0.1, made once per
 * process with the openssl CLI. Not a test file (the runner only picks up `*.test.ts`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsMaterial {
  /** PEM certificate; also the CA that trusts it. */
  cert: string;
  /** PEM private key. */
  key: string;
}

/** Why TLS tests cannot run here, or undefined when the openssl CLI is available. */
export const opensslMissing: string | undefined =
  spawnSync('openssl', ['version']).status === 0 ? undefined : 'the openssl CLI is not available';

let material: TlsMaterial | null = null;

/** The certificate and key (PEM strings), generated on first use. */
export function selfSignedCertificate(): TlsMaterial {
  if (material) return material;
  const dir = mkdtempSync(join(tmpdir(), 'wskit-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'pipe', timeout: 30_000 },
    );
    material = {
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    };
    return material;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the certificate and key to `cert.pem` and `key.pem` in `dir` (for command-line tools). */
export function writeCertificateFiles(dir: string): { cert: string; key: string } {
  const { cert, key } = selfSignedCertificate();
  const paths = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  writeFileSync(paths.cert, cert);
  writeFileSync(paths.key, key);
  return paths;
}
