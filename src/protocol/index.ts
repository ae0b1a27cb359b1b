/**
 * The sans-I/O RFC 6455 engine: bytes in, events out; calls in, bytes out. No sockets, timers or
 * runtime modules, so it runs under any JavaScript runtime.
 *
 * @module wskit/protocol
 */
export { CloseCode, isValidWireCloseCode } from './close-codes.js';
export {
  type CloseResult,
  type CloseStatus,
  checkCloseReason,
  closeResult,
  shouldCloseTransport,
} from './close-lifecycle.js';
export {
  type ExtensionOffer,
  formatExtensions,
  parseExtensions,
} from './extensions/extension-header.js';
export { frameHeaderSize, writeFrameHeader } from './frame-header.js';
export { FrameParser, type FrameParserOptions, type FrameSink } from './frame-parser.js';
export {
  ClientHandshake,
  type ClientHandshakeEvent,
  type ClientHandshakeOptions,
  type ClientHandshakeState,
  MAX_REFUSAL_BODY_BYTES,
  REDIRECT_STATUSES,
} from './handshake/client.js';
export { computeAccept, generateKey, isValidKey, WEBSOCKET_GUID } from './handshake/keys.js';
export {
  buildClientRequest,
  type ClientRequestOptions,
  checkUpgradeRequest,
  type UpgradeCheck,
  type UpgradeRequest,
} from './handshake/request.js';
export {
  type AcceptResponseOptions,
  buildAcceptResponse,
  buildRejectResponse,
  type ExpectedResponse,
  validateServerResponse,
} from './handshake/response.js';
export {
  type ServerAcceptance,
  ServerHandshake,
  type ServerHandshakeEvent,
  type ServerHandshakeOptions,
  type ServerHandshakeState,
} from './handshake/server.js';
export { type BodyFraming, bodyFraming, HttpBodyReader } from './http-body-reader.js';
export {
  type HeadLimits,
  HttpHeadParser,
  type HttpRequestHead,
  HttpRequestHeadParser,
  type HttpResponseHead,
  RequestHeadError,
} from './http-head-parser.js';
export { isToken, isValidHeaderValue, listHasToken, splitList } from './http-tokens.js';
export { applyMask, type MaskKernel, MaskKeyPool } from './mask.js';
export { wasmMask } from './mask-wasm.js';
export { isControlOpcode, Opcode } from './opcodes.js';
export { type Platform, portablePlatform } from './platform.js';
export { sha1Base64Portable } from './sha1.js';
export { isUtf8Portable, type Utf8Check, Utf8Validator } from './utf8.js';
export {
  DEFAULT_MAX_PAYLOAD,
  MAX_CLOSE_REASON_BYTES,
  type ProtocolOptions,
  type ProtocolSink,
  type Role,
  WebSocketProtocol,
} from './websocket-protocol.js';
