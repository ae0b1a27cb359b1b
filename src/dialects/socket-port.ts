/**
 * What the dialects need from a WebSocket: the WHATWG interface. In Node it is wskit's
 * own `WebSocket`; in a browser it is the native one. Dialects depend on this shape only, so the
 * same dialect code runs on both.
 */
export interface PortEvent {
  readonly type: string;
}
export interface PortMessageEvent extends PortEvent {
  readonly data: unknown;
}
export interface PortCloseEvent extends PortEvent {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}
export interface PortErrorEvent extends PortEvent {
  /** In Node: a typed wskit error with a stable `code`. Browsers give no detail. */
  readonly error?: unknown;
  readonly message?: string;
}

export interface PortSocket {
  readonly readyState: number;
  readonly url: string;
  readonly protocol: string;
  readonly extensions: string;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: (event: PortEvent) => void): void;
  addEventListener(type: 'message', listener: (event: PortMessageEvent) => void): void;
  addEventListener(type: 'close', listener: (event: PortCloseEvent) => void): void;
  addEventListener(type: 'error', listener: (event: PortErrorEvent) => void): void;
  removeEventListener(type: string, listener: (event: never) => void): void;
}

/** Options a dialect may pass through to the socket; browsers ignore what they cannot do. */
export interface PortOptions {
  protocols?: string[];
  /** Node only: wskit `WebSocketOptions` (headers, tls, proxy, ...). */
  node?: Record<string, unknown>;
}

/** Opens a socket to `url`; throws a `SyntaxError` DOMException for a URL it cannot use. */
export type SocketFactory = (url: string, options?: PortOptions) => PortSocket;

/**
 * Takes `socket` over for a dialect: binary messages then arrive as `ArrayBuffer`, the one form
 * every dialect converts from. The only place a dialect sets `binaryType` on a socket.
 */
export function adoptSocket<S extends PortSocket>(socket: S): S {
  socket.binaryType = 'arraybuffer';
  return socket;
}
