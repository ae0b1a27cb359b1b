/** The property bag of InCore's `new WebSocket({...})`: what it may hold, and its checks. */
import { unknownKeyMessage } from '../options.js';
import { HANDLER_KEYS } from './signals.js';
import type { InCoreWebSocketBase } from './websocket.js';

/** Writable properties, restored by `deserializeProperties()` and `fromJson()`. */
export interface InCoreProperties {
  url?: string;
  autoConnect?: boolean;
  subProtocol?: string;
  objectId?: string;
  autoOpen?: boolean;
  append?: boolean;
  truncate?: boolean;
  readOnly?: boolean;
  unbuffered?: boolean;
  nameArgument?: string;
}

/**
 * What `new WebSocket({...})` takes: the writable properties, `parent`, handlers named as in
 * QML (`onConnected`, `onTextMessageReceived`, `onStateChanged`, ...) and two wskit settings.
 */
export interface InCoreInit extends InCoreProperties {
  parent?: object | null;
  /** wskit: first delay before `autoConnect` retries after an error, in ms (default 1000). */
  reconnectDelay?: number;
  /**
   * wskit: most bytes the IoDevice read buffer holds (default 16 MiB, as `QAbstractSocket`'s
   * `readBufferSize`; 0: no limit). A binary message that would overflow it fails the
   * connection: see the README.
   */
  readBufferSize?: number;
  /** wskit, Node only: options for the underlying wskit WebSocket (tls, headers, proxy...). */
  socketOptions?: Record<string, unknown>;
  [handler: `on${string}`]: ((this: InCoreWebSocketBase, ...args: never[]) => unknown) | undefined;
}

// autoConnect comes before url, so restoring { url, autoConnect: false } does not connect.
/** The writable properties, in the order they are restored. */
export const SERIALIZED: ReadonlyArray<keyof InCoreProperties> = [
  'autoConnect',
  'url',
  'subProtocol',
  'objectId',
  'autoOpen',
  'append',
  'truncate',
  'readOnly',
  'unbuffered',
  'nameArgument',
];

/** Keys of the property bag other than handlers. */
const INIT_KEYS: readonly string[] = [
  ...SERIALIZED,
  'parent',
  'reconnectDelay',
  'readBufferSize',
  'socketOptions',
];
const INIT_HINTS: Readonly<Record<string, string>> = {
  protocol: 'subProtocol',
  protocols: 'subProtocol',
  headers: 'socketOptions',
  tls: 'socketOptions',
  reconnect: 'autoConnect',
};
/** A non-negative number option, or `fallback` when absent; a `RangeError` otherwise. */
function nonNegative(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new RangeError(`new WebSocket(): ${name} must be a number >= 0, not ${String(value)}`);
  return value;
}

const DEFAULT_READ_BUFFER_SIZE = 16 * 1024 * 1024;
/** What the constructor takes from the bag besides the properties. */
export interface InCoreSettings {
  /** The handlers given, by key (`onConnected`, ...), null and undefined included. */
  handlers: Array<[string, unknown]>;
  reconnectDelay: number;
  readBufferSize: number;
  socketOptions: Record<string, unknown> | undefined;
}

/** Checks the property bag: a TypeError for an unknown key or a handler that is no function. */
export function readInit(init: InCoreInit): InCoreSettings {
  if (typeof init !== 'object' || init === null)
    throw new TypeError('new WebSocket() takes a property bag: { url, onConnected, ... }');
  const handlers: Array<[string, unknown]> = [];
  for (const [key, value] of Object.entries(init)) {
    if (HANDLER_KEYS.includes(key)) {
      if (value !== undefined && value !== null && typeof value !== 'function')
        throw new TypeError(`new WebSocket(): "${key}" must be a function, not ${typeof value}`);
      handlers.push([key, value]);
    } else if (!INIT_KEYS.includes(key)) {
      throw new TypeError(
        unknownKeyMessage(
          "InCore's new WebSocket()",
          key,
          [...INIT_KEYS, ...HANDLER_KEYS],
          INIT_HINTS,
          false,
        ),
      );
    }
  }
  return {
    handlers,
    reconnectDelay: nonNegative('reconnectDelay', init.reconnectDelay, 1000),
    readBufferSize: nonNegative('readBufferSize', init.readBufferSize, DEFAULT_READ_BUFFER_SIZE),
    socketOptions: init.socketOptions,
  };
}
