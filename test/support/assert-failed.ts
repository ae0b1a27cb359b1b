/**
 * The one "the engine failed the connection with close code X" assertion of the tests, for any
 * engine whose sink records errors, events and written frames.
 */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { ProtocolError } from '../../src/errors.js';
import type { WebSocketProtocol } from '../../src/protocol/index.js';
import { type DecodedFrame, parseCloseBody } from './frames.js';

/** What a recording sink must keep for {@link assertFailed}. */
export interface FailureRecord {
  /** Every error the engine reported, in order. */
  readonly errors: readonly ProtocolError[];
  /** Every event the engine reported, in order; an error is `{ type: 'error', closeCode, code }`. */
  readonly events: readonly { readonly type: string }[];
  /** The frames the engine wrote, decoded. */
  frames(): DecodedFrame[];
}

/** The error code each close code is reported with unless a test names another. */
const ERROR_CODES: Readonly<Record<number, string>> = {
  1002: 'ERR_WS_PROTOCOL',
  1007: 'ERR_WS_INVALID_UTF8',
  1009: 'ERR_WS_MESSAGE_TOO_BIG',
};

/** What else a failure must show besides its close code. */
export interface FailureExpectation {
  /** The error's code; by default the usual one for the close code (1007: invalid UTF-8). */
  code?: string;
  /** A pattern the error's message matches. */
  message?: RegExp;
}

/** A JSON replacer that shows a Buffer (already in its toJSON form) as its length only. */
function bytesAsLengths(_key: string, value: unknown): unknown {
  const bytes = value as { type?: unknown; data?: unknown } | null;
  return typeof bytes === 'object' && bytes?.type === 'Buffer' && Array.isArray(bytes.data)
    ? `<${bytes.data.length} bytes>`
    : value;
}

/**
 * Asserts the engine failed the connection with `closeCode`: exactly one onError, a ProtocolError
 * with that closeCode and the expected error code, as the last event; and the last (and only)
 * close frame written carries the same code with a UTF-8 reason, masked iff the engine is a
 * client (RFC 6455 section 7.1.7).
 */
export function assertFailed(
  { ws, sink }: { ws: WebSocketProtocol; sink: FailureRecord },
  closeCode: number,
  expect: FailureExpectation = {},
): void {
  const code = expect.code ?? ERROR_CODES[closeCode];
  assert.equal(
    sink.errors.length,
    1,
    `expected one error, got events ${JSON.stringify(sink.events, bytesAsLengths)}`,
  );
  const error = sink.errors[0]!;
  assert.ok(error instanceof ProtocolError);
  assert.equal(error.closeCode, closeCode, `error was: ${error.message}`);
  assert.equal(error.code, code);
  if (expect.message) assert.match(error.message, expect.message);
  const lastEvent = sink.events.at(-1) as { type: string; closeCode?: number; code?: string };
  assert.deepEqual(
    { type: lastEvent?.type, closeCode: lastEvent?.closeCode, code: lastEvent?.code },
    { type: 'error', closeCode, code },
    'the error is the last event',
  );
  const frames = sink.frames();
  const closes = frames.filter((f) => f.opcode === 0x8);
  assert.equal(closes.length, 1, 'exactly one close frame written');
  const last = frames.at(-1)!;
  assert.equal(last.opcode, 0x8, 'the close frame is the last thing written');
  assert.equal(last.masked, ws.role === 'client');
  assert.equal(parseCloseBody(last.payload).code, closeCode);
  assert.ok(isUtf8(last.payload.subarray(2)));
  assert.equal(ws.failed, true);
  assert.equal(ws.done, true);
  assert.equal(ws.closeSent, true);
}
