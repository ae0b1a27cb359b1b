import type { Buffer } from 'node:buffer';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { NodeDeflateCompressor } from '../node/deflate/zlib-compressor.js';

/** How binary messages are delivered: `Buffer` (default), `ArrayBuffer`, `Buffer[]` or `Blob`. */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';
/** A received message as the `message` event gives it. */
export type RawData = Buffer | ArrayBuffer | Buffer[];
/** What `send` takes. */
export type SendData =
  | string
  | number
  | Buffer
  | ArrayBuffer
  | SharedArrayBuffer
  | ArrayBufferView
  | Blob
  | readonly number[]
  | readonly Uint8Array[];

/** Options of `send`. */
export interface SendOptions {
  /** Binary frame (default: true unless `data` is a string). */
  binary?: boolean | undefined;
  /** Allow compression when permessage-deflate is on (default true; the threshold still applies). */
  compress?: boolean | undefined;
  /** Last fragment of the message (default true). */
  fin?: boolean | undefined;
  /** Must match the side: clients mask, servers do not (RFC 6455 section 5.3). */
  mask?: boolean | undefined;
}

/** The events of a `wskit/ws` socket, with their arguments. */
export interface WebSocketEvents {
  open: [];
  message: [data: RawData, isBinary: boolean];
  close: [code: number, reason: Buffer];
  error: [error: Error];
  ping: [data: Buffer];
  pong: [data: Buffer];
  upgrade: [request: IncomingMessage];
  'unexpected-response': [request: ClientRequest, response: IncomingMessage];
  redirect: [url: string, request: ClientRequest];
}

/** Settings of one established connection. */
export interface ConnectionSettings {
  maxPayload: number;
  skipUTF8Validation: boolean;
  compressor: NodeDeflateCompressor | null;
}

/** The callback of `send`, `ping` and `pong`: called once written, or with the error. */
export type Callback = (error?: Error | null) => void;

/** readyState names, by value. */
export const READY_STATES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;
