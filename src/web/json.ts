/** JSON over text messages: the encoding and decoding wskit's JSON helpers share. */
import { WebSocketError } from '../errors.js';

/**
 * The JSON text of `value` for a text message. Throws `ERR_WS_INVALID_ARGUMENT` for what JSON
 * cannot carry (undefined, a function, a symbol, a BigInt, a cycle), instead of sending "undefined".
 */
export function encodeJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new WebSocketError(
      'ERR_WS_INVALID_ARGUMENT',
      `sendJSON(): the value cannot be written as JSON (${(error as Error).message})`,
      { cause: error },
    );
  }
  if (text === undefined) {
    throw new WebSocketError(
      'ERR_WS_INVALID_ARGUMENT',
      `sendJSON(): a ${typeof value} has no JSON form; send an object, array, string, number, boolean or null`,
    );
  }
  return text;
}

/**
 * Parses a received message as JSON. Throws `ERR_WS_INVALID_ARGUMENT` when the message is binary
 * or not JSON, with the start of the text, so the caller can tell which message was wrong.
 */
export function decodeJson(data: unknown): unknown {
  if (typeof data !== 'string') {
    throw new WebSocketError(
      'ERR_WS_INVALID_ARGUMENT',
      'a binary message arrived where JSON text was expected: send JSON as text messages',
    );
  }
  try {
    return JSON.parse(data);
  } catch (error) {
    const start = data.length > 60 ? `${data.slice(0, 60)}...` : data;
    throw new WebSocketError(
      'ERR_WS_INVALID_ARGUMENT',
      `a message is not valid JSON (${(error as Error).message}): ${JSON.stringify(start)}`,
      { cause: error },
    );
  }
}
