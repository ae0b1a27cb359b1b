/**
 * The sans-I/O RFC 6455 engine: bytes in, events out; calls in, bytes out. No sockets, timers or
 * runtime modules, so it runs under any JavaScript runtime.
 */
export { CloseCode, isValidWireCloseCode } from './close-codes.js';
export {
  type ExtensionOffer,
  formatExtensions,
  parseExtensions,
} from './extensions/extension-header.js';
export { frameHeaderSize, writeFrameHeader } from './frame-header.js';
export { FrameParser, type FrameParserOptions, type FrameSink } from './frame-parser.js';
export {
  type AcceptResponseOptions,
  buildAcceptResponse,
  buildClientRequest,
  buildRejectResponse,
  type ClientRequestOptions,
  checkUpgradeRequest,
  computeAccept,
  type ExpectedResponse,
  generateKey,
  isValidKey,
  type UpgradeCheck,
  type UpgradeRequest,
  validateServerResponse,
  WEBSOCKET_GUID,
} from './handshake.js';
export { type HeadLimits, HttpHeadParser, type HttpResponseHead } from './http-head-parser.js';
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
