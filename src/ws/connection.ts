/**
 * One open `wskit/ws` connection: wskit's engine over the upgraded socket, with `ws`'s write
 * callbacks, its order of sends behind a Blob being read, and its closing rules and timer.
 */
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import type { ProtocolError } from '../errors.js';
import type { NodeDeflateCompressor } from '../node/deflate/zlib-compressor.js';
import { nodePlatform } from '../node/node-platform.js';
import type { MessageCompressor } from '../protocol/extensions/message-compressor.js';
import type { Platform } from '../protocol/platform.js';
import { type ProtocolSink, type Role, WebSocketProtocol } from '../protocol/websocket-protocol.js';
import { wsErrorOf } from './errors.js';
import { asBuffer, closeReason, EMPTY } from './send-args.js';
import type { Callback, ConnectionSettings, SendData } from './types.js';

/** What a connection reports to the socket object that owns it. */
export interface ConnectionEvents {
  message(data: Buffer, binary: boolean): void;
  ping(data: Buffer): void;
  pong(data: Buffer): void;
  error(error: Error): void;
  close(code: number, reason: Buffer): void;
  /** Data given once the close frame is out: counted in `bufferedAmount`, `cb` failed. */
  refuse(data: SendData | undefined, cb: Callback | undefined): void;
  /** Whether the user has paused reading (`pause()`). */
  userPaused(): boolean;
}

/** How the connection runs: its side, `autoPong` and the closing handshake's time limit. */
export interface ConnectionOptions {
  role: Role;
  autoPong: boolean;
  closeTimeout: number;
}

/** An operation held behind a Blob being read, with its callback to fail if it never runs. */
interface Held {
  run: () => void;
  cb: Callback | undefined;
}

const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;
const OPCODE_CLOSE = 0x8;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** `skipUTF8Validation`: the engine's platform with every UTF-8 check passing. */
const trustingPlatform: Platform = { ...nodePlatform, isUtf8: () => true };

/** The engine of one open connection and the socket it runs over. */
export class Connection {
  readonly #socket: Duplex;
  readonly #engine: WebSocketProtocol;
  readonly #events: ConnectionEvents;
  readonly #compressor: NodeDeflateCompressor | null;
  readonly #closeTimeout: number;
  #state: 1 | 2 | 3 = OPEN;
  #closeTimer: NodeJS.Timeout | null = null;
  #closeCode = 1006;
  #closeMessage: Buffer = EMPTY;
  #closeFrameReceived = false;
  #closeFrameSent = false;
  #errorEmitted = false;
  #enginePaused = false;
  #endWhenIdle = false;
  /** Callbacks of data frames not yet handed to the socket, in send order. */
  #dataCallbacks: Array<Callback | undefined> = [];
  /** Byte counts of the same frames, for `bufferedAmount`. */
  #dataBytes: number[] = [];
  #pendingBytes = 0;
  /** Decompressions in flight; `close` waits for them so no received message is lost. */
  #inflating = 0;
  #closeWhenInflated = false;
  /** The callback of the control frame being written now. */
  #controlCallback: Callback | undefined;
  /** Operations waiting behind a Blob being read, to keep order; null when none is. */
  #held: Held[] | null = null;

  /** Starts the engine on `socket`; `head` is what came after the handshake. */
  constructor(
    socket: Duplex,
    head: Buffer,
    settings: ConnectionSettings,
    options: ConnectionOptions,
    events: ConnectionEvents,
  ) {
    this.#socket = socket;
    this.#events = events;
    this.#compressor = settings.compressor;
    this.#closeTimeout = options.closeTimeout;
    this.#engine = new WebSocketProtocol(
      {
        role: options.role,
        maxPayload: settings.maxPayload,
        platform: settings.skipUTF8Validation ? trustingPlatform : nodePlatform,
        autoPong: options.autoPong,
        ...(settings.compressor ? { compressor: this.#countInflations(settings.compressor) } : {}),
      },
      this.#sink(),
    );
    const s = socket as Duplex & { setTimeout?: (ms: number) => void; setNoDelay?: () => void };
    if (typeof s.setTimeout === 'function') s.setTimeout(0);
    if (typeof s.setNoDelay === 'function') s.setNoDelay();
    if (head.length > 0) socket.unshift(head);
    socket.on('close', this.#onSocketClose);
    socket.on('data', this.#onData);
    socket.on('end', this.#onSocketEnd);
    socket.on('error', this.#onSocketError);
  }

  /** 1 OPEN, 2 CLOSING, 3 CLOSED. */
  get state(): 1 | 2 | 3 {
    return this.#state;
  }

  /** Whether both close frames were exchanged. */
  get wasClean(): boolean {
    return this.#closeFrameReceived && this.#closeFrameSent;
  }

  /** Bytes accepted and not yet written to the network. */
  get bufferedAmount(): number {
    return this.#socket.writableLength + this.#pendingBytes;
  }

  /** The timer that destroys the socket if the closing handshake does not finish. */
  get closeTimer(): NodeJS.Timeout | null {
    return this.#closeTimer;
  }

  /** Whether the engine asked to stop reading (a message is being decompressed). */
  get enginePaused(): boolean {
    return this.#enginePaused;
  }

  /** Sends a close frame with `code` and `data` (checked as ws does), or finishes closing. */
  close(code: number | undefined, data: string | Buffer | undefined): void {
    const engine = this.#engine;
    if (this.#state === CLOSING) {
      if (this.#closeFrameSent && (this.#closeFrameReceived || engine.failed)) this.#end();
      return;
    }
    const reason = closeReason(code, data);
    this.#state = CLOSING;
    this.#whenReady(() => {
      if (engine.closeSent) return;
      engine.close(code, reason);
      this.#closeFrameSent = true;
      if (this.#closeFrameReceived || engine.failed) this.#end();
    });
    this.#setCloseTimer();
  }

  /** Destroys the socket at once. */
  terminate(): void {
    this.#state = CLOSING;
    this.#socket.destroy();
  }

  /** Sends a message (a Blob once read), keeping the order of everything sent. */
  send(
    payload: string | Buffer | Blob,
    binary: boolean,
    compress: boolean,
    fin: boolean,
    cb: Callback | undefined,
  ): void {
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
      this.#whenReady(() => this.#sendNow(payload, binary, compress, fin, cb), cb);
    } else this.#sendBlob(payload, binary, compress, fin, cb);
  }

  /** Sends a ping or a pong (`payload` already checked). */
  control(kind: 'ping' | 'pong', payload: Buffer, cb: Callback | undefined): void {
    this.#whenReady(() => {
      const engine = this.#engine;
      if (engine.closeSent) {
        this.#events.refuse(payload, cb);
        return;
      }
      this.#controlCallback = cb;
      try {
        if (kind === 'ping') engine.ping(payload);
        else engine.pong(payload);
      } finally {
        this.#controlCallback = undefined;
      }
    }, cb);
  }

  #onData = (chunk: Buffer) => {
    // Replies written while one chunk is handled (echoes, pongs) leave in one system call.
    const socket = this.#socket;
    socket.cork();
    this.#engine.receive(chunk);
    socket.uncork();
  };

  #sink(): ProtocolSink {
    const socket = this.#socket;
    const events = this.#events;
    return {
      write: (data) => this.#write(asBuffer(data)),
      writePair: (header, payload) => {
        socket.cork();
        socket.write(asBuffer(header));
        this.#write(asBuffer(payload), header[0]!);
        socket.uncork();
      },
      onMessage: (data, binary) => events.message(asBuffer(data), binary),
      onPing: (payload) => events.ping(asBuffer(payload)),
      onPong: (payload) => events.pong(asBuffer(payload)),
      onClose: (code, reason) => this.#receivedClose(code, reason),
      onError: (error) => this.#failed(error),
      pause: () => {
        this.#enginePaused = true;
        socket.pause();
      },
      resume: () => {
        this.#enginePaused = false;
        if (!events.userPaused()) socket.resume();
      },
      onIdle: () => {
        if (this.#endWhenIdle) {
          this.#endWhenIdle = false;
          socket.end();
        }
      },
    };
  }

  /** Writes one frame, with the callback of the send, ping, pong or close that made it. */
  #write(bytes: Buffer, firstByte = bytes[0]!): void {
    const opcode = firstByte & 0x0f;
    let cb: Callback | undefined;
    if (opcode < OPCODE_CLOSE) {
      cb = this.#dataCallbacks.shift();
      this.#pendingBytes -= this.#dataBytes.shift() ?? 0;
    } else if (opcode === OPCODE_PING || opcode === OPCODE_PONG) cb = this.#controlCallback;
    if (cb) this.#socket.write(bytes, cb);
    else this.#socket.write(bytes);
  }

  /** Stops reading frames; keeps reading the socket so the peer's TCP close is seen. */
  #stopReading(): void {
    const socket = this.#socket;
    socket.removeListener('data', this.#onData);
    process.nextTick(() => socket.resume());
  }

  /** The connection is closing on our side: CLOSING, with the timer, once. */
  #closing(): void {
    if (this.#state === OPEN) {
      this.#state = CLOSING;
      this.#setCloseTimer();
    }
  }

  #receivedClose(code: number, reason: string): void {
    this.#closeFrameReceived = true;
    this.#closeCode = code;
    this.#closeMessage = Buffer.from(reason);
    this.#stopReading();
    // The engine has answered with a close frame (RFC 6455 section 5.5.1).
    this.#closeFrameSent = true;
    this.#closing();
    this.#end();
  }

  #failed(error: ProtocolError): void {
    this.#stopReading();
    this.#closeFrameSent = true;
    this.#closing();
    this.#end();
    this.#emitError(wsErrorOf(error));
  }

  #emitError(error: Error): void {
    if (!this.#errorEmitted) {
      this.#errorEmitted = true;
      this.#events.error(error);
    }
  }

  /** Ends the socket once every queued frame (the close frame last) has been written. */
  #end(): void {
    if (this.#engine.idle) this.#socket.end();
    else this.#endWhenIdle = true;
  }

  #setCloseTimer(): void {
    if (this.#closeTimer !== null) return;
    const socket = this.#socket;
    this.#closeTimer = setTimeout(() => socket.destroy(), this.#closeTimeout);
  }

  #onSocketClose = (): void => {
    const socket = this.#socket;
    socket.removeListener('close', this.#onSocketClose);
    socket.removeListener('data', this.#onData);
    socket.removeListener('end', this.#onSocketEnd);
    this.#state = CLOSING;
    const engine = this.#engine;
    // Frames read but not delivered because the socket was paused still count.
    if (!this.#closeFrameReceived && !engine.done && socket.readableLength > 0) {
      const chunk = socket.read() as Buffer | null;
      if (chunk !== null) engine.receive(chunk);
    }
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    if (this.#inflating > 0) this.#closeWhenInflated = true;
    else this.#emitClose();
  };

  #onSocketEnd = (): void => {
    this.#state = CLOSING;
    this.#socket.end();
  };

  #onSocketError = (): void => {
    const socket = this.#socket;
    socket.removeListener('error', this.#onSocketError);
    socket.on('error', () => {});
    this.#state = CLOSING;
    socket.destroy();
  };

  #emitClose(): void {
    this.#compressor?.close();
    const pending = this.#dataCallbacks;
    this.#dataCallbacks = [];
    this.#dataBytes = [];
    this.#pendingBytes = 0;
    if (pending.some((cb) => cb !== undefined)) {
      const error = new Error('The socket was closed while data was being compressed');
      for (const cb of pending) cb?.(error);
    }
    this.#state = CLOSED;
    this.#events.close(this.#closeCode, this.#closeMessage);
  }

  #sendNow(
    payload: string | Buffer,
    binary: boolean,
    compress: boolean,
    fin: boolean,
    cb: Callback | undefined,
  ): void {
    const engine = this.#engine;
    if (engine.closeSent) {
      this.#events.refuse(payload, cb);
      return;
    }
    const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    this.#dataCallbacks.push(cb);
    this.#dataBytes.push(bytes);
    this.#pendingBytes += bytes;
    try {
      if (!fin || engine.fragmentedSendOpen) engine.sendFragment(payload, binary, fin);
      else if (binary) engine.sendBinary(payload, compress);
      else engine.sendText(payload, compress);
    } catch (error) {
      this.#dataCallbacks.pop();
      this.#pendingBytes -= this.#dataBytes.pop() ?? 0;
      throw error;
    }
  }

  #sendBlob(
    blob: Blob,
    binary: boolean,
    compress: boolean,
    fin: boolean,
    cb: Callback | undefined,
  ): void {
    this.#whenReady(() => {
      // Everything sent after a Blob waits for it to be read, as in ws.
      const held: Held[] = [];
      this.#held = held;
      this.#pendingBytes += blob.size;
      const socket = this.#socket;
      const failAll = (error: Error) => {
        cb?.(error);
        for (const h of held) h.cb?.(error);
      };
      blob.arrayBuffer().then(
        (buffer) => {
          this.#pendingBytes -= blob.size;
          if (socket.destroyed) {
            const error = new Error('The socket was closed while the blob was being read');
            process.nextTick(failAll, error);
            return;
          }
          this.#held = null;
          this.#sendNow(Buffer.from(buffer), binary, compress, fin, cb);
          this.#release(held);
        },
        (error: Error) => {
          this.#pendingBytes -= blob.size;
          process.nextTick(() => {
            failAll(error);
            this.#sendFailed(error);
          });
        },
      );
    }, cb);
  }

  /** A message could not be sent (its Blob could not be read): the connection is closed. */
  #sendFailed(error: Error): void {
    if (this.#state === CLOSED) return;
    this.#closing();
    this.#socket.end();
    this.#emitError(error);
  }

  /** Runs operations held behind a Blob, until the next Blob holds the rest again. */
  #release(held: Held[]): void {
    while (held.length > 0) {
      const next = held.shift()!;
      next.run();
      if (this.#held !== null) {
        this.#held.push(...held);
        return;
      }
    }
  }

  /** Runs `operation` now, or after the Blob being read, to keep `ws`'s order of sends. */
  #whenReady(operation: () => void, cb?: Callback): void {
    if (this.#held === null) operation();
    else this.#held.push({ run: operation, cb });
  }

  /** Counts decompressions in flight so that `close` follows every message received. */
  #countInflations(compressor: NodeDeflateCompressor): MessageCompressor {
    return {
      threshold: compressor.threshold,
      compress: (data, callback) => compressor.compress(data, callback),
      decompress: (data, maxBytes, callback) => {
        this.#inflating++;
        compressor.decompress(data, maxBytes, (error, result) => {
          this.#inflating--;
          try {
            callback(error, result);
          } finally {
            if (this.#inflating === 0 && this.#closeWhenInflated) {
              this.#closeWhenInflated = false;
              this.#emitClose();
            }
          }
        });
      },
      close: () => compressor.close(),
    };
  }
}
