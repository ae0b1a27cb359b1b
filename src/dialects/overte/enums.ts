/**
 * The enumerations of Overte's script `WebSocket` (Overte script API, High Fidelity lineage),
 * with the names and values its documentation lists. Each is a frozen object plus a type of its
 * values, so `CloseCode.Normal` is a value and `CloseCode` a type.
 */

/** `WebSocket.CloseCode`: the reason why the connection was closed (RFC 6455 section 7.4.1). */
export const CloseCode = Object.freeze({
  /** Normal closure. */
  Normal: 1000,
  /** Going away. */
  GoingAway: 1001,
  /** Protocol error. */
  ProtocolError: 1002,
  /** Unsupported data. */
  DatatypeNotSupported: 1003,
  /** Reserved. */
  Reserved1004: 1004,
  /** No status received. */
  MissingStatusCode: 1005,
  /** Abnormal closure. */
  AbnormalDisconnection: 1006,
  /** Invalid frame payload data. */
  WrongDatatype: 1007,
  /** Policy violation. */
  PolicyViolated: 1008,
  /** Message too big. */
  TooMuchData: 1009,
  /** Mandatory extension missing. */
  MissingExtension: 1010,
  /** Internal server error. */
  BadOperation: 1011,
  /** TLS handshake failed. */
  TlsHandshakeFailed: 1015,
} as const);
/** A value of {@link CloseCode}. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** `WebSocket.ReadyState`: the state of a WebSocket connection. */
export const ReadyState = Object.freeze({
  /** The connection is opening. */
  CONNECTING: 0,
  /** The connection is open. */
  OPEN: 1,
  /** The connection is closing. */
  CLOSING: 2,
  /** The connection is closed. */
  CLOSED: 3,
} as const);
/** A value of {@link ReadyState}. */
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/**
 * `WebSocket.SocketError`: the type of socket error (Qt's `QAbstractSocket::SocketError`
 * numbering). `onerror` receives one of these numbers; wskit maps its typed errors to them with
 * `socketErrorOf()` (see the error table of the README).
 */
export const SocketError = Object.freeze({
  /** The connection was refused or timed out. */
  ConnectionRefusedError: 0,
  /** The remote host closed the connection. */
  RemoteHostClosedError: 1,
  /** The host address was not found. */
  HostNotFoundError: 2,
  /** The socket operation failed because the application doesn't have the necessary privileges. */
  SocketAccessError: 3,
  /** The local system ran out of resources (e.g., too many sockets). */
  SocketResourceError: 4,
  /** The socket operation timed out. */
  SocketTimeoutError: 5,
  /** The datagram was larger than the OS's limit. */
  DatagramTooLargeError: 6,
  /** An error occurred with the network. */
  NetworkError: 7,
  /** The address is already in use and cannot be reused. */
  AddressInUseError: 8,
  /** The address specified does not belong to the host. */
  SocketAddressNotAvailableError: 9,
  /** The requested socket operation is not supported by the local OS. */
  UnsupportedSocketOperationError: 10,
  /** The socket is using a proxy and requires authentication. */
  ProxyAuthenticationRequiredError: 11,
  /** The SSL/TLS handshake failed. */
  SslHandshakeFailedError: 12,
  /** The last operation has not finished yet. */
  UnfinishedSocketOperationError: 13,
  /** Could not contact the proxy server because connection was denied. */
  ProxyConnectionRefusedError: 14,
  /** The connection to the proxy server was unexpectedly closed. */
  ProxyConnectionClosedError: 15,
  /** The connection to the proxy server timed out. */
  ProxyConnectionTimeoutError: 16,
  /** The proxy address was not found. */
  ProxyNotFoundError: 17,
  /** Connection to the proxy server failed because the server response could not be understood. */
  ProxyProtocolError: 18,
  /** An operation failed because the socket state did not permit it. */
  OperationError: 19,
  /** Internal error in the SSL library being used. */
  SslInternalError: 20,
  /** Error in the SSL library because of invalid data. */
  SslInvalidUserDataError: 21,
  /** A temporary error occurred. */
  TemporaryError: 22,
  /** An unknown error occurred (also: the browser gave no detail, or the handshake was refused). */
  UnknownSocketError: -1,
} as const);
/** A value of {@link SocketError}. */
export type SocketError = (typeof SocketError)[keyof typeof SocketError];
