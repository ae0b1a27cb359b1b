import type { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConnectionError, type ProtocolError, WebSocketError } from '../errors.js';
import type { MessageCompressor } from '../protocol/extensions/message-compressor.js';
import { type ProtocolSink, type Role, WebSocketProtocol } from '../protocol/websocket-protocol.js';
import { byteSize, toBytes, type WebSocketData } from './bytes.js';
import { connectionErrorFrom } from './error-map.js';
import { nodePlatform } from './node-platform.js';
import type { ConnectionSettings } from './options.js';

/** Why reading from the socket is paused; reading resumes when no reason is left. */
export enum ReadPause {
  /** The application called `pause()`. */
  User = 1,
  /** The engine has more inbound work queued than it takes (messages still inflating). */
  Engine = 2,
  /** Our own writes are not leaving: the socket's buffer is over its high-water mark. */
  Writes = 4,
}

const kConnection = Symbol('wskit.connection');
const EMPTY_CHUNK = new Uint8Array(0);

// Bits of Connection#state.
/** The closing handshake has begun (either side) or the connection failed or was dropped. */
const CLOSING = 1;
const FAILED = 2;
const CLOSED = 4;
/** Where the ReadPause bits start in Connection#state. */
const PAUSE_SHIFT = 3;
type OwnedSocket = Duplex & { [kConnection]: Connection };

/** A connection's timers; the heartbeat's ping and pong, and the bound on the closing. */
interface Timers {
  close: NodeJS.Timeout | null;
  ping: NodeJS.Timeout | null;
  pong: NodeJS.Timeout | null;
}

/**
 * One open WebSocket connection on a Node socket: the engine's sink (bytes out to the socket,
 * events up to the owner), the socket's listeners, the heartbeat and the close timer, and the
 * ordered sending of `Blob`s, which must be read before they are framed. The owner's class
 * extends it with the `report*` methods, through which the connection's events reach it (one
 * object per connection, no closures: idle memory).
 */
export abstract class Connection implements ProtocolSink {
  readonly engine: WebSocketProtocol;
  /** A `net.Socket` or `tls.TLSSocket`, or any `Duplex` a server's 'upgrade' event gave. */
  readonly socket: Duplex;
  readonly #compressor: MessageCompressor | null;
  /** Shared by every connection of a server (and by clients with the same settings). */
  readonly #settings: ConnectionSettings;
  /** CLOSING, FAILED and CLOSED bits, and the ReadPause reasons shifted by PAUSE_SHIFT. */
  #state = 0;
  /** Made when the first timer is armed: most connections have no heartbeat and never close. */
  #timers: Timers | null = null;
  #sendQueue: WebSocketData[] | null = null;
  #queuedBytes = 0;
  /** Control frames (pongs) answered while the socket's buffer was not empty. */
  #owedControl = 0;

  /** A whole message; text arrives as bytes already validated as UTF-8. */
  protected abstract reportMessage(data: Uint8Array, binary: boolean): void;
  /** A ping arrived (the engine has answered it). */
  protected abstract reportPing(payload: Uint8Array): void;
  /** A pong arrived. */
  protected abstract reportPong(payload: Uint8Array): void;
  /** The peer's close frame arrived, or the connection failed: the closing has begun. */
  protected abstract reportClosing(): void;
  /** The connection failed (protocol error, socket error or a missed heartbeat pong). */
  protected abstract reportError(error: WebSocketError): void;
  /** The socket is closed for good, with the close event's fields. Called once. */
  protected abstract reportClosed(code: number, reason: string, wasClean: boolean): void;

  constructor(
    socket: Duplex,
    role: Role,
    compressor: MessageCompressor | null,
    settings: ConnectionSettings,
  ) {
    this.socket = socket;
    this.#compressor = compressor;
    this.#settings = settings;
    this.engine = new WebSocketProtocol(
      {
        role,
        maxPayload: settings.maxPayload,
        platform: nodePlatform,
        ...(compressor ? { compressor } : {}),
      },
      this,
    );
    (socket as OwnedSocket)[kConnection] = this;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    // A Duplex that is not a net.Socket has no timer of its own to arm.
    if (settings.idleTimeout > 0 && typeof (socket as Partial<Socket>).setTimeout === 'function') {
      (socket as Socket).setTimeout(settings.idleTimeout);
      socket.on('timeout', onSocketIdle);
    }
    if (settings.heartbeat)
      this.#startHeartbeat(settings.heartbeat.interval, settings.heartbeat.timeout);
  }

  /** Bytes handed to `send()` that have not reached the operating system yet. */
  get bufferedAmount(): number {
    const socket = this.socket;
    return (socket.destroyed ? 0 : socket.writableLength) + this.#queuedBytes;
  }

  /** Whether data may still be sent: not closing and no close frame sent. */
  get sendable(): boolean {
    return (this.#state & CLOSING) === 0 && !this.engine.closeSent;
  }

  /** Feeds bytes read elsewhere (those that came with the upgrade request). */
  receive(data: Uint8Array): void {
    if (data.length > 0) this.engine.receive(data);
  }

  /**
   * Sends a message, after any `Blob` still being read, to keep order. Past the send queue
   * limit, the `"refuse"` policy throws before anything is queued; the `"close"` policy sends
   * and then drops the connection, as the WHATWG standard does when its buffer is full.
   */
  send(data: WebSocketData): void {
    const { sendQueueLimit: limit, sendQueuePolicy: policy } = this.#settings;
    if (limit > 0 && policy === 'refuse') {
      const size = byteSize(data);
      if (this.bufferedAmount + size > limit) {
        throw new WebSocketError(
          'ERR_WS_BACKPRESSURE',
          `send(): ${this.bufferedAmount} bytes are still waiting for the peer to read them and ` +
            `${size} more would pass sendQueueLimit (${limit}); wait for bufferedAmount to fall ` +
            '(or await sendAsync()) before sending more',
        );
      }
    }
    this.#sendNow(data);
    if (limit > 0 && policy === 'close' && this.bufferedAmount > limit) {
      this.#dropSlowPeer(
        `${this.bufferedAmount} bytes wait for a peer that does not read them (sendQueueLimit ` +
          `${limit}): the connection is dropped`,
      );
    }
  }

  #sendNow(data: WebSocketData): void {
    if (this.#sendQueue !== null || data instanceof Blob) {
      this.#enqueue(data);
      return;
    }
    const engine = this.engine;
    if (typeof data === 'string') engine.sendText(data);
    else if (ArrayBuffer.isView(data))
      engine.sendBinary(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer)
      engine.sendBinary(new Uint8Array(data));
    else engine.sendText(String(data));
  }

  /** Writes a pre-encoded frame of `data` (broadcast), keeping order with {@link send}. */
  sendRaw(frame: Uint8Array, data: WebSocketData): boolean {
    if (!this.sendable) return false;
    if (this.#sendQueue !== null) {
      this.#enqueue(data);
      return true;
    }
    return this.engine.sendRaw(frame);
  }

  /** Starts the closing handshake and bounds the wait for its end with the close timeout. */
  close(code: number | undefined, reason: string): void {
    this.#state |= CLOSING;
    this.#sendQueue = null;
    this.#queuedBytes = 0;
    this.engine.close(code, reason);
    this.#armCloseTimer();
  }

  /** Pauses reading for `reason`; reading resumes once every reason is lifted. */
  pauseReading(reason: ReadPause): void {
    if (this.#state >> PAUSE_SHIFT === 0 && !this.socket.destroyed) this.socket.pause();
    this.#state |= reason << PAUSE_SHIFT;
  }

  /** Lifts one reason for pausing; reading resumes when none is left. */
  resumeReading(reason: ReadPause): void {
    if (this.#state >> PAUSE_SHIFT === 0) return;
    this.#state &= ~(reason << PAUSE_SHIFT);
    if (this.#state >> PAUSE_SHIFT === 0 && !this.socket.destroyed) this.socket.resume();
  }

  /**
   * After a received chunk is handled: while the replies and messages we wrote are not leaving
   * (the peer does not read), stop reading from the peer, so that what it sends cannot make us
   * queue more answers. Reading resumes when the socket drains.
   */
  checkWriteBackpressure(): void {
    const socket = this.socket;
    if ((this.#state & (ReadPause.Writes << PAUSE_SHIFT)) !== 0 || socket.destroyed) return;
    if (socket.writableLength <= socket.writableHighWaterMark) return;
    this.pauseReading(ReadPause.Writes);
    socket.once('drain', () => {
      this.#owedControl = 0;
      this.resumeReading(ReadPause.Writes);
    });
  }

  /** Destroys the socket at once, without a closing handshake. */
  terminate(): void {
    this.#state |= CLOSING;
    const socket = this.socket;
    // Writes made while a received chunk is handled are corked; let them leave first.
    while (socket.writableCorked > 0) socket.uncork();
    socket.destroy();
  }

  /**
   * `callback(true)` runs once everything sent so far has been handed to the operating system:
   * after `Blob`s still being read and messages still being compressed are written, a write of
   * nothing is queued behind them, and its completion says all before it left. `callback(false)`
   * when the connection ends first.
   */
  onSent(callback: (sent: boolean) => void): void {
    if (this.#sendQueue !== null || !this.engine.idle) {
      if (this.#waitingForIdle === null) this.#waitingForIdle = [];
      this.#waitingForIdle.push(callback);
      return;
    }
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) {
      queueMicrotask(() => callback(false));
      return;
    }
    socket.write(EMPTY_CHUNK, (error) => callback(!error));
  }

  #waitingForIdle: Array<(sent: boolean) => void> | null = null;

  #releaseWaiting(): void {
    const waiting = this.#waitingForIdle;
    if (waiting === null || this.#sendQueue !== null || !this.engine.idle) return;
    this.#waitingForIdle = null;
    for (const callback of waiting) this.onSent(callback);
  }

  /** `callback` runs once the socket's write buffer is empty (or the socket is gone). */
  onDrain(callback: () => void): void {
    const socket = this.socket;
    if (socket.destroyed || socket.writableLength === 0) {
      queueMicrotask(callback);
      return;
    }
    const done = () => {
      socket.removeListener('drain', done);
      socket.removeListener('close', done);
      callback();
    };
    socket.on('drain', done);
    socket.on('close', done);
  }

  // -- ProtocolSink ----------------------------------------------------------------------------

  write(data: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  writePair(header: Uint8Array, payload: Uint8Array): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    socket.cork();
    socket.write(header);
    socket.write(payload);
    socket.uncork();
  }

  onMessage(data: Uint8Array, binary: boolean): void {
    this.reportMessage(data, binary);
  }

  onPing(payload: Uint8Array): void {
    // The engine has just answered with a pong. Answers that do not leave are the peer's doing:
    // a peer that pings without reading would otherwise make us hold every pong it is owed.
    const maxOwed = this.#settings.maxPendingControl;
    if (this.socket.writableLength > 0 && ++this.#owedControl > maxOwed) {
      this.engine.abort(
        1008,
        `the peer sent more than ${maxOwed} pings without reading the pongs`,
        'ERR_WS_BACKPRESSURE',
      );
      this.socket.destroy();
      return;
    }
    this.reportPing(payload);
  }

  onPong(payload: Uint8Array): void {
    const timers = this.#timers;
    if (timers?.pong) {
      clearTimeout(timers.pong);
      timers.pong = null;
    }
    this.reportPong(payload);
  }

  onClose(): void {
    this.#state |= CLOSING;
    this.reportClosing();
    this.#sendQueue = null;
    // The engine says who closes TCP first; a side that waits for the peer is bounded by the
    // close timer.
    if (this.engine.shouldCloseTransport) this.socket.end();
    this.#armCloseTimer();
  }

  onError(error: ProtocolError): void {
    this.#state |= FAILED;
    this.#state |= CLOSING;
    this.reportClosing();
    this.#sendQueue = null;
    this.reportError(error);
    // A failed connection is closed without waiting for an answer (the engine's rule).
    if (this.engine.shouldCloseTransport) this.socket.end();
    this.#armCloseTimer();
  }

  pause(): void {
    this.pauseReading(ReadPause.Engine);
  }

  resume(): void {
    this.resumeReading(ReadPause.Engine);
  }

  onIdle(): void {
    this.#releaseWaiting();
    // A close frame queued behind a compression has now been written.
    if (this.engine.shouldCloseTransport && !this.socket.writableEnded) this.socket.end();
  }

  // -- socket events ---------------------------------------------------------------------------

  /** The socket reported an error: the connection fails, once. */
  socketError(error: Error): void {
    if ((this.#state & CLOSED) !== 0 || (this.#state & FAILED) !== 0 || this.engine.done) return;
    this.#state |= FAILED;
    this.reportError(connectionErrorFrom(error, 'the connection'));
  }

  /** Nothing was sent or received for `idleTimeout`: close as going away. */
  idle(): void {
    if ((this.#state & CLOSING) !== 0 || (this.#state & CLOSED) !== 0) return;
    this.close(1001, 'idle timeout');
  }

  /** The peer does not read what we send: report it and free the memory at once. */
  #dropSlowPeer(message: string): void {
    if ((this.#state & CLOSED) !== 0 || (this.#state & FAILED) !== 0) return;
    this.#state |= FAILED;
    this.#state |= CLOSING;
    this.#sendQueue = null;
    this.#queuedBytes = 0;
    this.reportClosing();
    this.reportError(new ConnectionError('ERR_WS_BACKPRESSURE', message));
    this.socket.destroy();
  }

  /** The socket closed: stop the timers and report the close, once. */
  socketClosed(): void {
    this.#compressor?.close();
    this.#stopTimers();
    if ((this.#state & CLOSED) !== 0) return;
    this.#state |= CLOSED;
    this.#sendQueue = null;
    this.#queuedBytes = 0;
    const waiting = this.#waitingForIdle;
    this.#waitingForIdle = null;
    if (waiting) for (const callback of waiting) callback(false);
    const { code, reason, wasClean } = this.engine.closeResult;
    this.reportClosed(code, reason, wasClean);
  }

  // -- timers ----------------------------------------------------------------------------------

  #timersMade(): Timers {
    if (this.#timers === null) this.#timers = { close: null, ping: null, pong: null };
    return this.#timers;
  }

  #startHeartbeat(interval: number, timeout: number): void {
    const engine = this.engine;
    const timers = this.#timersMade();
    timers.ping = setInterval(() => {
      if ((this.#state & CLOSED) !== 0 || (this.#state & CLOSING) !== 0 || timers.pong) return;
      engine.ping();
      timers.pong = setTimeout(() => {
        timers.pong = null;
        if ((this.#state & CLOSED) !== 0 || engine.done) return;
        this.#state |= FAILED;
        this.reportError(
          new ConnectionError(
            'ERR_WS_TIMEOUT',
            `no pong within ${timeout} ms: the peer is unreachable (heartbeat)`,
          ),
        );
        this.socket.destroy();
      }, timeout);
      timers.pong.unref();
    }, interval);
    timers.ping.unref();
  }

  #stopTimers(): void {
    const timers = this.#timers;
    if (timers === null) return;
    if (timers.close) clearTimeout(timers.close);
    if (timers.pong) clearTimeout(timers.pong);
    if (timers.ping) clearInterval(timers.ping);
    timers.close = null;
    timers.pong = null;
    timers.ping = null;
  }

  #armCloseTimer(): void {
    const timeout = this.#settings.closeTimeout;
    if (this.#timers?.close || timeout <= 0 || (this.#state & CLOSED) !== 0) return;
    const socket = this.socket;
    const timers = this.#timersMade();
    timers.close = setTimeout(() => socket.destroy(), timeout);
    timers.close.unref?.();
  }

  // -- ordered sending of Blobs ----------------------------------------------------------------

  #enqueue(data: WebSocketData): void {
    const queue = this.#sendQueue ?? [];
    const first = this.#sendQueue === null;
    this.#sendQueue = queue;
    queue.push(data);
    this.#queuedBytes += byteSize(data);
    if (first) void this.#drainQueue(queue);
  }

  async #drainQueue(queue: WebSocketData[]): Promise<void> {
    while (queue.length > 0 && this.#sendQueue === queue) {
      const item = queue[0]!;
      const bytes: Uint8Array | string =
        item instanceof Blob
          ? new Uint8Array(await item.arrayBuffer())
          : typeof item === 'string'
            ? item
            : toBytes(item);
      if (this.#sendQueue !== queue || (this.#state & CLOSED) !== 0) return;
      queue.shift();
      this.#queuedBytes -= byteSize(item);
      if (typeof bytes === 'string') this.engine.sendText(bytes);
      else this.engine.sendBinary(bytes);
    }
    if (this.#sendQueue === queue) {
      this.#sendQueue = null;
      this.#releaseWaiting();
    }
  }
}

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  // Replies written while this chunk is handled (pongs, echoes, close frames) leave in one
  // write instead of one per frame.
  this.cork();
  const connection = this[kConnection];
  try {
    connection.engine.receive(chunk);
  } finally {
    this.uncork();
  }
  connection.checkWriteBackpressure();
}

function onSocketIdle(this: OwnedSocket): void {
  this[kConnection].idle();
}

function onSocketEnd(this: OwnedSocket): void {
  const engine = this[kConnection].engine;
  engine.receiveEof();
  // The peer will send nothing more; finish our side too (servers' sockets allow half-open).
  if (engine.shouldCloseTransport && !this.writableEnded) this.end();
}

function onSocketError(this: OwnedSocket, error: Error): void {
  this[kConnection].socketError(error);
}

function onSocketClose(this: OwnedSocket): void {
  this[kConnection].socketClosed();
}
