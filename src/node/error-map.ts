import { ConnectionError, type WebSocketErrorCode } from '../errors.js';

/** Node `errno` codes to wskit codes; the Qt number follows from the code (SOCKET_ERROR_BY_CODE). */
const BY_ERRNO: Record<string, [WebSocketErrorCode, string]> = {
  ECONNREFUSED: [
    'ERR_WS_CONNECTION_REFUSED',
    'the connection was refused: is the server running on that host and port?',
  ],
  ECONNRESET: ['ERR_WS_CONNECTION_RESET', 'the connection was reset by the peer'],
  EPIPE: ['ERR_WS_CONNECTION_RESET', 'the peer closed the connection while data was being written'],
  ENOTFOUND: ['ERR_WS_HOST_NOT_FOUND', 'the host name could not be resolved: check the URL'],
  EAI_NONAME: ['ERR_WS_HOST_NOT_FOUND', 'the host name could not be resolved: check the URL'],
  EAI_AGAIN: [
    'ERR_WS_HOST_NOT_FOUND',
    'the host name could not be resolved right now (DNS lookup timed out)',
  ],
  ENOENT: ['ERR_WS_HOST_NOT_FOUND', 'no socket exists at that path'],
  EACCES: ['ERR_WS_ACCESS', 'permission denied'],
  EPERM: ['ERR_WS_ACCESS', 'operation not permitted'],
  EMFILE: [
    'ERR_WS_RESOURCE',
    'too many open files: raise the limit (ulimit -n) or open fewer connections',
  ],
  ENFILE: ['ERR_WS_RESOURCE', 'the system ran out of file descriptors'],
  ENOBUFS: ['ERR_WS_RESOURCE', 'the system ran out of buffer space'],
  ENOMEM: ['ERR_WS_RESOURCE', 'the system ran out of memory'],
  ETIMEDOUT: ['ERR_WS_TIMEOUT', 'the connection timed out'],
  ENETUNREACH: ['ERR_WS_NETWORK', 'the network is unreachable'],
  EHOSTUNREACH: ['ERR_WS_NETWORK', 'the host is unreachable'],
  ENETDOWN: ['ERR_WS_NETWORK', 'the network is down'],
  ECONNABORTED: ['ERR_WS_NETWORK', 'the connection was aborted'],
  EADDRINUSE: [
    'ERR_WS_ADDRESS_IN_USE',
    'the address is already in use: pick another port or stop the other server',
  ],
  EADDRNOTAVAIL: ['ERR_WS_ADDRESS_NOT_AVAILABLE', 'the address does not belong to this host'],
  EAFNOSUPPORT: ['ERR_WS_UNSUPPORTED_OPERATION', 'the address family is not supported'],
  EPROTONOSUPPORT: ['ERR_WS_UNSUPPORTED_OPERATION', 'the protocol is not supported'],
  ENOTSUP: ['ERR_WS_UNSUPPORTED_OPERATION', 'the operation is not supported'],
  EAGAIN: ['ERR_WS_TEMPORARY', 'a temporary error occurred: try again'],
  EINTR: ['ERR_WS_TEMPORARY', 'the operation was interrupted: try again'],
};

const TLS_CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Turns a Node socket or TLS error into a typed {@link ConnectionError}, keeping it as `cause`. */
export function connectionErrorFrom(error: unknown, target: string): ConnectionError {
  if (error instanceof ConnectionError) return error;
  const code =
    typeof error === 'object' && error !== null
      ? String((error as { code?: unknown }).code ?? '')
      : '';
  const detail = error instanceof Error ? error.message : String(error);
  const known = BY_ERRNO[code];
  if (known)
    return new ConnectionError(known[0], `${target}: ${known[1]} (${code})`, { cause: error });
  if (TLS_CERTIFICATE_CODES.has(code)) {
    return new ConnectionError(
      'ERR_WS_TLS_CERTIFICATE',
      `${target}: the server's TLS certificate was refused (${code}: ${detail}); pass the CA with the tls.ca option`,
      { cause: error },
    );
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /^(SSL|TLS)/.test(code)) {
    return new ConnectionError(
      'ERR_WS_TLS',
      `${target}: the TLS handshake failed (${code}: ${detail})`,
      { cause: error },
    );
  }
  return new ConnectionError('ERR_WS_UNKNOWN', `${target}: ${detail}`, { cause: error });
}
