/** Close status codes of RFC 6455 section 7.4.1, plus the IANA-registered 1012-1014. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Reserved: never sent on the wire; reported when a close frame carried no code. */
  NoStatus: 1005,
  /** Reserved: never sent on the wire; reported when the connection ended without a close frame. */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  /** Reserved: never sent on the wire; reported when the TLS handshake failed. */
  TlsHandshake: 1015,
} as const;

/**
 * Whether `code` may appear in a close frame on the wire (RFC 6455 section 7.4.1 and 7.4.2):
 * 1000-1003, 1007-1014 and the application range 3000-4999. 1004, 1005, 1006 and 1015 are
 * reserved and MUST NOT be sent; everything below 1000, 1016-2999 and above 4999 is invalid.
 */
export function isValidWireCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999)
  );
}
