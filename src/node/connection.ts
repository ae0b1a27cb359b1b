import type { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { ConnectionError, type ProtocolError, type WebSocketError } from '../errors.js';
import type { MessageCompressor } from '../protocol/extensions/message-compressor.js';
import { type ProtocolSink, type Role, WebSocketProtocol } from '../protocol/websocket-protocol.js';
import { byteSize, toBytes, type WebSocketData } from './bytes.js';
import { connectionErrorFrom } from './error-map.js';
import { nodePlatform } from './node-platform.js';
import type { ConnectionSettings } from './options.js';

/** What a {@link Connection} reports to the object that owns it. */
export interface ConnectionEvents {
  /** A whole message; text arrives as bytes already validated as UTF-8. */
  onMessage(data: Uint8Array, binary: boolean): void;
  onPing(payload: Uint8Array): void;
  onPong(payload: Uint8Array): void;
  /** The peer's close frame arrived, or the connection failed: the closing has begun. */
  onClosing(): void;
  /** The connection failed (protocol error, socket error or a missed heartbeat pong). */
  onError(error: WebSocketError): void;
  /** The socket is closed for good, with the close event's fields. Called once. */
  onClosed(code: number, reason: string, wasClean: boolean): void;
}

const kConnection = Symbol('wskit.connection');
type OwnedSocket = Socket & { [kConnection]: Connection };

/**
 * One open WebSocket connection on a Node socket: the engine's sink (bytes out to the socket,
 * events up to the owner), the socket's listeners, the heartbeat and the close timer, and the
 * ordered sending of `Blob`s, which must be read before they are framed.
 */
export class Connection implements ProtocolSink {
  readonly engine: WebSocketProtocol;
  readonly socket: Socket;
  readonly #events: ConnectionEvents;
  readonly #compressor: MessageCompressor | null;
  readonly #closeTimeout: number;
  /** The closing handshake has begun (either side) or the connection failed or was dropped. */
  #closing = false;
  #failed = false;
  #closed = false;
  #closeTimer: NodeJS.Timeout | null = null;
  #pingTimer: NodeJS.Timeout | null = null;
  #pongTimer: NodeJS.Timeout | null = null;
  #sendQueue: WebSocketData[] | null = null;
  #queuedBytes = 0;

  constructor(
    socket: Socket,
    role: Role,
    compressor: MessageCompressor | null,
    settings: ConnectionSettings,
    events: ConnectionEvents,
  ) {
    this.socket = socket;
    this.#events = events;
    this.#compressor = compressor;
    this.#closeTimeout = settings.closeTimeout;
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
    return !this.#closing && !this.engine.closeSent;
  }

  /** Feeds bytes read elsewhere (those that came with the upgrade request). */
  receive(data: Uint8Array): void {
    if (data.length > 0) this.engine.receive(data);
  }

  /** Sends a message, after any `Blob` still being read, to keep order. */
  send(data: WebSocketData): void {
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
    this.#closing = true;
    this.#sendQueue = null;
    this.#queuedBytes = 0;
    this.engine.close(code, reason);
    this.#armCloseTimer();
  }

  /** Destroys the socket at once, without a closing handshake. */
  terminate(): void {
    this.#closing = true;
    const socket = this.socket;
    // Writes made while a received chunk is handled are corked; let them leave first.
    while (socket.writableCorked > 0) socket.uncork();
    socket.destroy();
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
    this.#events.onMessage(data, binary);
  }

  onPing(payload: Uint8Array): void {
    this.#events.onPing(payload);
  }

  onPong(payload: Uint8Array): void {
    if (this.#pongTimer) {
      clearTimeout(this.#pongTimer);
      this.#pongTimer = null;
    }
    this.#events.onPong(payload);
  }

  onClose(): void {
    this.#closing = true;
    this.#events.onClosing();
    this.#sendQueue = null;
    // The engine says who closes TCP first; a side that waits for the peer is bounded by the
    // close timer.
    if (this.engine.shouldCloseTransport) this.socket.end();
    this.#armCloseTimer();
  }

  onError(error: ProtocolError): void {
    this.#failed = true;
    this.#closing = true;
    this.#events.onClosing();
    this.#sendQueue = null;
    this.#events.onError(error);
    // A failed connection is closed without waiting for an answer (the engine's rule).
    if (this.engine.shouldCloseTransport) this.socket.end();
    this.#armCloseTimer();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  onIdle(): void {
    // A close frame queued behind a compression has now been written.
    if (this.engine.shouldCloseTransport && !this.socket.writableEnded) this.socket.end();
  }

  // -- socket events ---------------------------------------------------------------------------

  /** The socket reported an error: the connection fails, once. */
  socketError(error: Error): void {
    if (this.#closed || this.#failed || this.engine.done) return;
    this.#failed = true;
    this.#events.onError(connectionErrorFrom(error, 'the connection'));
  }

  /** The socket closed: stop the timers and report the close, once. */
  socketClosed(): void {
    this.#compressor?.close();
    this.#stopTimers();
    if (this.#closed) return;
    this.#closed = true;
    this.#sendQueue = null;
    this.#queuedBytes = 0;
    const { code, reason, wasClean } = this.engine.closeResult;
    this.#events.onClosed(code, reason, wasClean);
  }

  // -- timers ----------------------------------------------------------------------------------

  #startHeartbeat(interval: number, timeout: number): void {
    const engine = this.engine;
    this.#pingTimer = setInterval(() => {
      if (this.#closed || this.#closing || this.#pongTimer) return;
      engine.ping();
      this.#pongTimer = setTimeout(() => {
        this.#pongTimer = null;
        if (this.#closed || engine.done) return;
        this.#failed = true;
        this.#events.onError(
          new ConnectionError(
            'ERR_WS_TIMEOUT',
            `no pong within ${timeout} ms: the peer is unreachable (heartbeat)`,
          ),
        );
        this.socket.destroy();
      }, timeout);
      this.#pongTimer.unref();
    }, interval);
    this.#pingTimer.unref();
  }

  #stopTimers(): void {
    for (const timer of [this.#closeTimer, this.#pongTimer]) if (timer) clearTimeout(timer);
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#closeTimer = null;
    this.#pongTimer = null;
    this.#pingTimer = null;
  }

  #armCloseTimer(): void {
    if (this.#closeTimer || this.#closeTimeout <= 0 || this.#closed) return;
    const socket = this.socket;
    this.#closeTimer = setTimeout(() => socket.destroy(), this.#closeTimeout);
    this.#closeTimer.unref?.();
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
      if (this.#sendQueue !== queue || this.#closed) return;
      queue.shift();
      this.#queuedBytes -= byteSize(item);
      if (typeof bytes === 'string') this.engine.sendText(bytes);
      else this.engine.sendBinary(bytes);
    }
    if (this.#sendQueue === queue) this.#sendQueue = null;
  }
}

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  // Replies written while this chunk is handled (pongs, echoes, close frames) leave in one
  // write instead of one per frame.
  this.cork();
  try {
    this[kConnection].engine.receive(chunk);
  } finally {
    this.uncork();
  }
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
