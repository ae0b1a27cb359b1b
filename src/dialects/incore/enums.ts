/** `WebSocket.Error` of InCore: the most recent error of a WebSocket object. */
export const InCoreError = Object.freeze({
  /** No error occurred or was detected. */
  NoError: 0,
  /** An IpSocket-specific error occurred (see `ipSocketErrorOccurred` for its number). */
  IpSocketError: 1,
  /** The socket is not open, so messages can't be sent. */
  NotOpenError: 2,
  /** Error while establishing the TLS/SSL connection. */
  SslError: 3,
} as const);
export type InCoreError = (typeof InCoreError)[keyof typeof InCoreError];

/** `WebSocket.State` of InCore. */
export const InCoreState = Object.freeze({
  /** The WebSocket has started establishing a connection. */
  Connecting: 0,
  /** The connection is established and ready for sending and receiving messages. */
  Open: 1,
  /** The WebSocket is about to close (data may still be waiting to be written). */
  Closing: 2,
  /** The WebSocket is not connected. */
  Closed: 3,
} as const);
export type InCoreState = (typeof InCoreState)[keyof typeof InCoreState];
