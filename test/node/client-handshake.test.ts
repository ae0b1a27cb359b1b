/**
 * How the Node client reads the server's handshake answer, against a raw TCP server: line ends,
 * interim 1xx answers, and refusal bodies framed by length, chunks or the close, as Node's own
 * HTTP parser reads them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ErrorEvent, HandshakeError, type WebSocketError } from '../../src/index.js';
import { acceptFor, type ByteReader } from '../support/raw-peers.js';
import { Scope } from '../support/scope.js';
import { NO_HANDSHAKE_TIMEOUT_MS } from '../support/timeouts.js';
import { nextEvent } from '../support/waits.js';
import { encodeFrame, recordEvents } from './helpers.js';

const T = { timeout: 10_000 };
/** Far beyond the test's own timeout: a failure reported here cannot be the handshake timeout. */
const NO_TIMEOUT = { handshakeTimeout: NO_HANDSHAKE_TIMEOUT_MS };

/** Connects a client to a raw server and returns the server side once it read the request. */
async function start(env: Scope, handshakeTimeout = NO_TIMEOUT.handshakeTimeout) {
  const raw = await env.rawServer();
  const ws = env.client(raw.url, undefined, { handshakeTimeout });
  const log = recordEvents(ws);
  const conn = await raw.accept();
  const request = await conn.readHead();
  const key = request.headers['sec-websocket-key'] ?? '';
  return { ws, log, conn, key };
}

/** The error the client reported before closing. */
async function failure(
  ws: Parameters<typeof nextEvent>[0],
  log: ReturnType<typeof recordEvents>,
): Promise<WebSocketError> {
  const closed = await nextEvent(ws, 'close');
  assert.equal(closed.code, 1006);
  assert.deepEqual(log.types, ['error', 'close']);
  return log.first<ErrorEvent>('error')!.error as WebSocketError;
}

function writeAll(conn: ByteReader, ...pieces: string[]): Promise<void> {
  return pieces.reduce(
    (previous, piece) =>
      previous.then(
        () => new Promise<void>((resolve) => conn.socket.write(piece, () => resolve())),
      ),
    Promise.resolve(),
  );
}

describe('the handshake answer, read as Node reads HTTP', () => {
  it('bare LF line ends fail the handshake at once, not at the timeout', T, async (t) => {
    const env = new Scope(t);
    const { ws, log, conn, key } = await start(env);
    conn.socket.write(
      `HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: ${acceptFor(key)}\n\n`,
    );
    const error = await failure(ws, log);
    assert.ok(error instanceof HandshakeError, String(error));
    assert.equal(error.code, 'ERR_WS_HANDSHAKE');
    assert.match(error.message, /bare LF/);
  });

  it('a banner that is not HTTP fails the handshake at once', T, async (t) => {
    const env = new Scope(t);
    const { ws, log, conn } = await start(env);
    conn.socket.write('SSH-2.0-OpenSSH_9.2');
    const error = await failure(ws, log);
    assert.ok(error instanceof HandshakeError);
    assert.match(error.message, /did not answer with HTTP/);
  });

  it('100 Continue and 103 Early Hints before the 101 are skipped', T, async (t) => {
    const env = new Scope(t);
    const { ws, conn, key } = await start(env);
    const frame = encodeFrame(0x1, Buffer.from('after interim answers'));
    conn.socket.write(
      Buffer.concat([
        Buffer.from(
          'HTTP/1.1 100 Continue\r\n\r\n' +
            'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n' +
            'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
        ),
        frame,
      ]),
    );
    // Both listeners first: the frame that came with the 101 is delivered right after open.
    const opened = nextEvent(ws, 'open');
    const message = nextEvent(ws, 'message');
    await opened;
    assert.equal((await message).data, 'after interim answers');
  });

  it('an interim answer split across writes is still skipped', T, async (t) => {
    const env = new Scope(t);
    const { ws, conn, key } = await start(env);
    await writeAll(
      conn,
      'HTTP/1.1 100 Cont',
      'inue\r\n\r',
      '\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n',
      `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
    );
    await nextEvent(ws, 'open');
  });

  it(
    'a chunked refusal body comes back de-chunked, without waiting for the close',
    T,
    async (t) => {
      const env = new Scope(t);
      const { ws, log, conn } = await start(env);
      // The connection stays open after the body: its end is the last chunk, not the close.
      await writeAll(
        conn,
        'HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n',
        '7\r\nmembers\r\n',
        '6;ext=1\r\n only,\r\n',
        'D\r\n ask an admin\r\n0\r\nX-Trailer: t\r\n\r\n',
      );
      const error = await failure(ws, log);
      assert.ok(error instanceof HandshakeError);
      assert.equal(error.status, 403);
      assert.equal(error.body, 'members only, ask an admin');
      assert.match(error.message, /HTTP 403 Forbidden: members only, ask an admin$/);
      assert.equal(error.headers?.['transfer-encoding'], 'chunked');
    },
  );

  it('a Content-Length body that arrives after the head is read whole', T, async (t) => {
    const env = new Scope(t);
    const { ws, log, conn } = await start(env);
    const body = 'too many requests; retry in a minute';
    await writeAll(
      conn,
      `HTTP/1.1 429 Too Many Requests\r\nContent-Length: ${body.length}\r\nRetry-After: 60\r\n\r\n`,
      body.slice(0, 10),
      body.slice(10),
    );
    const error = await failure(ws, log);
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.status, 429);
    assert.equal(error.body, body);
    assert.equal(error.headers?.['retry-after'], '60');
    assert.match(
      error.message,
      /HTTP 429 Too Many Requests: too many requests; retry in a minute$/,
    );
  });

  it('a body without length or chunks ends with the connection', T, async (t) => {
    const env = new Scope(t);
    const { ws, log, conn } = await start(env);
    await writeAll(conn, 'HTTP/1.0 503 Service Unavailable\r\n\r\n', 'down for ', 'maintenance');
    conn.socket.end();
    const error = await failure(ws, log);
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.status, 503);
    assert.equal(error.body, 'down for maintenance');
  });

  it('a refusal whose body never ends is reported as the refusal at the timeout', T, async (t) => {
    const env = new Scope(t);
    const { ws, log, conn } = await start(env, 300);
    await writeAll(
      conn,
      'HTTP/1.1 401 Unauthorized\r\nContent-Length: 100\r\n\r\n',
      'log in first',
    );
    const error = await failure(ws, log);
    assert.ok(error instanceof HandshakeError, String(error));
    assert.equal(error.status, 401);
    assert.equal(error.body, 'log in first');
  });

  it('a refusal whose body stalls is reported without waiting for the timeout', T, async (t) => {
    const env = new Scope(t);
    const { ws, log, conn } = await start(env);
    await writeAll(
      conn,
      'HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n',
      '4\r\nstal',
    );
    const error = await failure(ws, log);
    assert.ok(error instanceof HandshakeError, String(error));
    assert.equal(error.status, 403);
    assert.equal(error.body, 'stal');
  });

  it('a refusal with an empty body names only the status', T, async (t) => {
    const env = new Scope(t);
    const { ws, log, conn } = await start(env);
    conn.socket.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    const error = await failure(ws, log);
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.status, 404);
    assert.equal(error.body, '');
    assert.match(
      error.message,
      /the server refused the WebSocket upgrade with HTTP 404 Not Found$/,
    );
  });
});
