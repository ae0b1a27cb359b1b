import type { ProtocolError } from '../errors.js';

/** An error as `ws` reports a broken frame: `ws`'s message and `code`, wskit's error as `cause`. */
export interface WsFrameError extends Error {
  /** `ws`'s error code (`WS_ERR_INVALID_OPCODE`, ...). */
  code: string;
  /** The close code the connection was failed with. */
  closeCode: number;
}

type Rule = [
  RegExp,
  RangeErrorConstructor | ErrorConstructor,
  (m: RegExpMatchArray) => string,
  string,
];

const PREFIX = 'Invalid WebSocket frame: ';

/** The engine's reasons (src/protocol/frame-parser.ts, websocket-protocol.ts) in `ws`'s words. */
const RULES: readonly Rule[] = [
  [
    /^RSV2 or RSV3 is set$/,
    RangeError,
    () => `${PREFIX}RSV2 and RSV3 must be clear`,
    'WS_ERR_UNEXPECTED_RSV_2_3',
  ],
  [/^RSV1 is set/, RangeError, () => `${PREFIX}RSV1 must be clear`, 'WS_ERR_UNEXPECTED_RSV_1'],
  [
    /^reserved (?:control|data) opcode 0x([0-9a-f]+)$/,
    RangeError,
    (m) => `${PREFIX}invalid opcode ${Number.parseInt(m[1]!, 16)}`,
    'WS_ERR_INVALID_OPCODE',
  ],
  [
    /^continuation frame with no message/,
    RangeError,
    () => `${PREFIX}invalid opcode 0`,
    'WS_ERR_INVALID_OPCODE',
  ],
  [
    /^new data frame while a fragmented/,
    RangeError,
    (m) => `${PREFIX}${m.input}`,
    'WS_ERR_INVALID_OPCODE',
  ],
  [
    /^fragmented control frame$/,
    RangeError,
    () => `${PREFIX}FIN must be set`,
    'WS_ERR_EXPECTED_FIN',
  ],
  [
    /^control frame payload over 125 bytes$/,
    RangeError,
    (m) => `${PREFIX}${m.input}`,
    'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
  ],
  [
    /^close frame with a 1-byte payload$/,
    RangeError,
    () => `${PREFIX}invalid payload length 1`,
    'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
  ],
  [
    /^client sent an unmasked frame$/,
    RangeError,
    () => `${PREFIX}MASK must be set`,
    'WS_ERR_EXPECTED_MASK',
  ],
  [
    /^server sent a masked frame$/,
    RangeError,
    () => `${PREFIX}MASK must be clear`,
    'WS_ERR_UNEXPECTED_MASK',
  ],
  [
    /exceeds maxPayload/,
    RangeError,
    () => 'Max payload size exceeded',
    'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
  ],
  [/UTF-8/, Error, () => `${PREFIX}invalid UTF-8 sequence`, 'WS_ERR_INVALID_UTF8'],
  [
    /^invalid close code (\d+)$/,
    RangeError,
    (m) => `${PREFIX}invalid status code ${m[1]}`,
    'WS_ERR_INVALID_CLOSE_CODE',
  ],
];

/** Turns the engine's ProtocolError into the error `ws` would report for the same frame. */
export function wsErrorOf(error: ProtocolError): WsFrameError {
  for (const [pattern, Ctor, message, code] of RULES) {
    const match = error.message.match(pattern);
    if (match === null) continue;
    const out = new Ctor(message(match), { cause: error }) as WsFrameError;
    out.code = code;
    out.closeCode = error.closeCode;
    return out;
  }
  const out = new Error(error.message, { cause: error }) as WsFrameError;
  out.code = error.code;
  out.closeCode = error.closeCode;
  return out;
}
