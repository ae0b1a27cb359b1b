/**
 * Decompression bombs: a real one (1 GiB of zeros deflated to about 1 MiB) sent as one
 * compressed message must be stopped at maxPayload while inflating, with close code 1009, and
 * without memory growing anywhere near the bomb's inflated size.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  constants,
  createDeflateRaw,
  createInflateRaw,
  InflateRaw,
  inflateRawSync,
} from 'node:zlib';
import {
  type CloseEvent,
  type ErrorEvent,
  ProtocolError,
  WebSocket,
  WebSocketServer,
} from '../../src/index.js';
import { NodeDeflateCompressor } from '../../src/node/deflate/zlib-compressor.js';
import { zlibLimiter } from '../../src/node/deflate/zlib-limiter.js';
import {
  closeCodeOf,
  type DecodedFrame,
  decodeFrames,
  deflateMessage,
  frame,
  Op,
  TAIL,
} from '../support/deflate.js';

const GiB = 1024 * 1024 * 1024;
const MAX_PAYLOAD = 1024 * 1024;
const SEGMENT = 16 * 1024 * 1024;
/** Allowed growth of external + arrayBuffers memory while the bomb is handled. */
const MEMORY_BUDGET = 64 * 1024 * 1024;
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const T = { timeout: 60_000 } as const;

/**
 * 1 GiB of zeros as permessage-deflate data, built without ever holding 1 GiB: a level-9 raw
 * deflater compresses 16 MiB of zeros twice with a sync flush after each; from the second
 * segment on the window holds only zeros, so that segment can be repeated to extend the data.
 */
async function buildBomb(): Promise<Buffer> {
  const deflate = createDeflateRaw({ level: 9, memLevel: 9 });
  const zeros = Buffer.alloc(SEGMENT);
  const segment = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    deflate.on('data', onData);
    deflate.write(zeros);
    await new Promise<void>((resolve) => deflate.flush(constants.Z_SYNC_FLUSH, resolve));
    deflate.off('data', onData);
    return Buffer.concat(chunks);
  };
  const first = await segment();
  const steady = await segment();
  deflate.close();
  const parts = [first];
  for (let i = 1; i < GiB / SEGMENT; i++) parts.push(steady);
  const all = Buffer.concat(parts);
  assert.deepEqual(all.subarray(-4), TAIL);
  return all.subarray(0, all.length - 4);
}

/** Inflates `data` counting the output without keeping it. */
async function inflatedSize(data: Buffer): Promise<number> {
  const inflate = createInflateRaw();
  let total = 0;
  inflate.on('data', (chunk: Buffer) => {
    total += chunk.length;
  });
  inflate.write(data);
  inflate.write(TAIL);
  await new Promise<void>((resolve) => inflate.flush(() => resolve()));
  inflate.close();
  return total;
}

/** Samples external + arrayBuffers memory; `peak` is the highest value seen. */
class MemorySampler {
  readonly baseline: number;
  peak: number;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.baseline = MemorySampler.now();
    this.peak = this.baseline;
    this.timer = setInterval(() => this.sample(), 5);
  }

  static now(): number {
    const m = process.memoryUsage();
    return m.external + m.arrayBuffers;
  }

  sample(): void {
    const v = MemorySampler.now();
    if (v > this.peak) this.peak = v;
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak - this.baseline;
  }
}

/** Reads frames from a raw socket after the handshake. */
class FrameReader {
  private buffer = Buffer.alloc(0);
  readonly frames: DecodedFrame[] = [];
  private waiters: Array<() => void> = [];
  ended = false;

  constructor(socket: Socket, rest: Buffer, onChunk?: () => void) {
    this.push(rest);
    socket.on('data', (chunk: Buffer) => {
      onChunk?.();
      this.push(chunk);
    });
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
  }

  private push(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const size = completeFrameSize(this.buffer);
      if (size === 0) break;
      this.frames.push(...decodeFrames(this.buffer.subarray(0, size)));
      this.buffer = this.buffer.subarray(size);
    }
    this.notify();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves with the first frame; rejects if the socket closes without one. */
  async first(): Promise<DecodedFrame> {
    for (;;) {
      if (this.frames.length > 0) return this.frames[0]!;
      if (this.ended) throw new Error('the connection closed without a frame');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

/** Byte size of the complete frame at the start of `data`, or 0 if it is not complete. */
function completeFrameSize(data: Buffer): number {
  if (data.length < 2) return 0;
  let length = data[1]! & 0x7f;
  let o = 2;
  if (length === 126) {
    if (data.length < 4) return 0;
    length = data.readUInt16BE(2);
    o = 4;
  } else if (length === 127) {
    if (data.length < 10) return 0;
    length = Number(data.readBigUInt64BE(2));
    o = 10;
  }
  if (data[1]! & 0x80) o += 4;
  return data.length >= o + length ? o + length : 0;
}

/** Reads an HTTP head from `socket`; resolves with the head and the bytes after it. */
function readHead(socket: Socket): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve({ head: buffer.subarray(0, end).toString('latin1'), rest: buffer.subarray(end + 4) });
    };
    const onClose = () => reject(new Error('closed before the HTTP head'));
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

function header(head: string, name: string): string | undefined {
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return undefined;
}

function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

let bomb: Buffer;

before(
  async () => {
    bomb = await buildBomb();
  },
  { timeout: 60_000 },
);

describe('the crafted bomb', () => {
  it(
    'is real: about 1 MiB that inflates to 1 GiB, small enough to pass the frame-size check',
    T,
    async () => {
      assert.ok(bomb.length < MAX_PAYLOAD, `compressed size ${bomb.length}`);
      assert.ok(bomb.length > 512 * 1024);
      assert.equal(await inflatedSize(bomb), GiB);
    },
  );
});

describe('NodeDeflateCompressor.decompress against the bomb', () => {
  it(
    'stops producing output at maxBytes plus at most one zlib chunk, then fails with 1009',
    T,
    async (t) => {
      const originalPush = InflateRaw.prototype.push;
      const streams = new Set<InflateRaw>();
      let produced = 0;
      InflateRaw.prototype.push = function (
        this: InflateRaw,
        chunk: unknown,
        encoding?: BufferEncoding,
      ) {
        streams.add(this);
        if (Buffer.isBuffer(chunk)) produced += chunk.length;
        return originalPush.call(this, chunk, encoding);
      };
      const compressor = new NodeDeflateCompressor(
        {
          serverNoContextTakeover: false,
          clientNoContextTakeover: false,
          serverMaxWindowBits: 15,
          clientMaxWindowBits: 15,
        },
        'server',
      );
      try {
        const outcome = await new Promise<{ error: ProtocolError | null; at: number }>((resolve) =>
          compressor.decompress(bomb, MAX_PAYLOAD, (error, result) => {
            assert.equal(result, null);
            resolve({ error, at: produced });
          }),
        );
        assert.ok(outcome.error instanceof ProtocolError);
        assert.equal(outcome.error.closeCode, 1009);
        assert.equal(outcome.error.code, 'ERR_WS_MESSAGE_TOO_BIG');
        assert.match(outcome.error.message, /exceeds maxPayload of 1048576 bytes/);
        assert.ok(outcome.at > MAX_PAYLOAD, 'it did inflate up to the limit');
        assert.ok(
          outcome.at <= MAX_PAYLOAD + constants.Z_DEFAULT_CHUNK,
          `${outcome.at} bytes inflated before failing`,
        );
        // The inflater is closed, not left running through the rest of the bomb.
        assert.equal(streams.size, 1);
        const [stream] = streams;
        if (!stream!.closed) await once(stream!, 'close');
        assert.ok(produced <= MAX_PAYLOAD + constants.Z_DEFAULT_CHUNK, `${produced} bytes in all`);
        assert.equal(zlibLimiter.running, 0, 'the zlib job slot is released');
        t.diagnostic(`${outcome.at} bytes inflated when it failed, ${produced} in all`);
      } finally {
        InflateRaw.prototype.push = originalPush;
        compressor.close();
      }
    },
  );

  it('after failing on the bomb, the same compressor inflates the next message', T, async () => {
    const agreement = {
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 15,
    };
    const c = new NodeDeflateCompressor(agreement, 'client');
    try {
      const first = await new Promise<number | undefined>((resolve) =>
        c.decompress(bomb, MAX_PAYLOAD, (error) => resolve(error?.closeCode)),
      );
      assert.equal(first, 1009);
      // After a failure the context is dropped; a fresh, valid message inflates again.
      const small = deflateMessage('abc');
      const again = await new Promise<string>((resolve, reject) =>
        c.decompress(small, MAX_PAYLOAD, (error, result) =>
          error || !result
            ? reject(error ?? new Error('no result'))
            : resolve(Buffer.from(result).toString()),
        ),
      );
      assert.equal(again, 'abc');
    } finally {
      c.close();
    }
  });
});

describe('a wskit server receiving the bomb over TCP', () => {
  let wss: WebSocketServer;
  let port: number;
  const sockets: Socket[] = [];

  before(async () => {
    wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      maxPayload: MAX_PAYLOAD,
      perMessageDeflate: true,
      closeTimeout: 2000,
    });
    await once(wss, 'listening');
    port = (wss.address() as AddressInfo).port;
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  /** Opens a raw TCP connection and completes the handshake offering permessage-deflate. */
  async function rawClient(
    onChunk?: () => void,
  ): Promise<{ socket: Socket; reader: FrameReader; extensions: string }> {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    await once(socket, 'connect');
    const key = randomBytes(16).toString('base64');
    socket.write(
      'GET / HTTP/1.1\r\n' +
        `Host: 127.0.0.1:${port}\r\n` +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${key}\r\n` +
        'Sec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n',
    );
    const { head, rest } = await readHead(socket);
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.equal(header(head, 'sec-websocket-accept'), acceptFor(key));
    const extensions = header(head, 'sec-websocket-extensions') ?? '';
    assert.match(extensions, /^permessage-deflate\b/);
    return { socket, reader: new FrameReader(socket, rest, onChunk), extensions };
  }

  interface ServerView {
    errors: unknown[];
    closed: Promise<{ code: number; wasClean: boolean }>;
    extensions: string;
  }

  function nextConnection(): Promise<ServerView> {
    return new Promise((resolve) => {
      wss.once('connection', (ws: WebSocket) => {
        const errors: unknown[] = [];
        ws.addEventListener('error', (e: ErrorEvent) => errors.push(e.error));
        const closed = new Promise<{ code: number; wasClean: boolean }>((done) =>
          ws.addEventListener('close', (e: CloseEvent) =>
            done({ code: e.code, wasClean: e.wasClean }),
          ),
        );
        resolve({ errors, closed, extensions: ws.extensions });
      });
    });
  }

  async function sendBombAndCheck(frames: Buffer[]): Promise<number> {
    const serverSide = nextConnection();
    let sampler: MemorySampler | null = null;
    const { socket, reader } = await rawClient(() => sampler?.sample());
    const server = await serverSide;
    assert.match(server.extensions, /^permessage-deflate/);

    sampler = new MemorySampler();
    let growth: number;
    try {
      for (const f of frames) socket.write(f);
      const first = await reader.first();
      assert.equal(first.opcode, Op.Close, 'the server answers with a close frame');
      assert.equal(first.masked, false);
      assert.equal(closeCodeOf(first.payload), 1009);
      const closed = await server.closed;
      assert.equal(closed.wasClean, false);
      assert.equal(closed.code, 1006, 'the server failed the connection: no close frame came back');
    } finally {
      growth = sampler.stop();
    }
    assert.equal(server.errors.length, 1);
    const error = server.errors[0];
    assert.ok(error instanceof ProtocolError, `a ProtocolError, got ${String(error)}`);
    assert.equal(error.code, 'ERR_WS_MESSAGE_TOO_BIG');
    assert.equal(error.closeCode, 1009);
    assert.match(error.message, /decompressed/, 'stopped while inflating, not by the frame size');
    assert.ok(
      growth < MEMORY_BUDGET,
      `external + arrayBuffers grew by ${(growth / 1048576).toFixed(1)} MiB for a 1 GiB bomb`,
    );
    if (!reader.ended) await once(socket, 'close');
    assert.equal(zlibLimiter.running, 0);
    return growth;
  }

  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

  it('closes with 1009, reports ERR_WS_MESSAGE_TOO_BIG, and memory stays bounded', T, async (t) => {
    const growth = await sendBombAndCheck([
      frame({ opcode: Op.Binary, rsv1: true, payload: bomb, mask: true }),
    ]);
    t.diagnostic(`memory growth ${mib(growth)}`);
  });

  it('does the same when the bomb comes as 16 fragments', T, async (t) => {
    const frames: Buffer[] = [];
    const size = Math.ceil(bomb.length / 16);
    for (let i = 0; i < 16; i++) {
      frames.push(
        frame({
          opcode: i === 0 ? Op.Text : Op.Continuation,
          fin: i === 15,
          rsv1: i === 0,
          payload: bomb.subarray(i * size, (i + 1) * size),
          mask: true,
        }),
      );
    }
    const growth = await sendBombAndCheck(frames);
    t.diagnostic(`memory growth ${mib(growth)}`);
  });

  it('keeps serving: a normal compressed message still round-trips afterwards', T, async () => {
    const serverSide = nextConnection();
    wss.once('connection', (ws: WebSocket) =>
      ws.addEventListener('message', (e) => ws.send(e.data as string)),
    );
    const { socket, reader } = await rawClient();
    await serverSide;
    const text = 'still alive '.repeat(100);
    socket.write(frame({ opcode: Op.Text, rsv1: true, payload: deflateMessage(text), mask: true }));
    const echo = await reader.first();
    assert.equal(echo.opcode, Op.Text);
    const payload = echo.rsv1
      ? inflateRawSync(Buffer.concat([echo.payload, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH })
      : echo.payload;
    assert.equal(payload.toString(), text);
    socket.destroy();
  });
});

describe('a wskit client receiving the bomb from a raw TCP server', () => {
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];
  /** Called with a reader of what the client sends after the handshake. */
  let onClientFrames: ((reader: FrameReader) => void) | null = null;

  before(async () => {
    server = createServer((socket) => {
      sockets.push(socket);
      void (async () => {
        const { head, rest } = await readHead(socket);
        onClientFrames?.(new FrameReader(socket, rest));
        const key = header(head, 'sec-websocket-key') ?? '';
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\n' +
            'Upgrade: websocket\r\n' +
            'Connection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n` +
            'Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n',
        );
        socket.write(frame({ opcode: Op.Binary, rsv1: true, payload: bomb }));
      })().catch(() => socket.destroy());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    server.close();
    await once(server, 'close');
  });

  it('fails with 1009 and sends a masked close frame with 1009', T, async (t) => {
    const written = new Promise<DecodedFrame>((resolve, reject) => {
      onClientFrames = (reader) => reader.first().then(resolve, reject);
    });
    const sampler = new MemorySampler();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, [], {
      maxPayload: MAX_PAYLOAD,
      closeTimeout: 2000,
    });
    const errors: unknown[] = [];
    ws.addEventListener('error', (e: ErrorEvent) => errors.push(e.error));
    const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener('close', resolve));
    const event = await closed;
    const growth = sampler.stop();
    assert.equal(ws.extensions, 'permessage-deflate');
    assert.equal(event.code, 1006);
    assert.equal(errors.length, 1);
    const error = errors[0];
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.code, 'ERR_WS_MESSAGE_TOO_BIG');
    assert.match(error.message, /decompressed/);
    const close = await written;
    onClientFrames = null;
    assert.equal(close.opcode, Op.Close);
    assert.equal(close.masked, true);
    assert.equal(closeCodeOf(close.payload), 1009);
    assert.ok(growth < MEMORY_BUDGET, `grew by ${(growth / 1048576).toFixed(1)} MiB`);
    t.diagnostic(`memory growth ${(growth / 1048576).toFixed(1)} MiB`);
  });
});
