/**
 * The signals of InCore's `WebSocket` (its own, its IoDevice and Object bases', and one change
 * signal per property) and the QML-style `onX` handler property of each.
 */
import { Signal } from '../qt/signal.js';
import type { InCoreWebSocketBase } from './websocket.js';

/** Signal names of the object, its IoDevice and Object bases, and every property's change signal. */
export const INCORE_SIGNALS = [
  'binaryMessageReceived',
  'connected',
  'disconnected',
  'errorOccurred',
  'ipSocketErrorOccurred',
  'sslErrorOccurred',
  'textMessageReceived',
  'lineAvailableForRead',
  'readyRead',
  'completed',
  'autoConnectChanged',
  'errorChanged',
  'errorStringChanged',
  'stateChanged',
  'subProtocolChanged',
  'urlChanged',
  'appendChanged',
  'atEndChanged',
  'autoOpenChanged',
  'bytesAvailableChanged',
  'canReadLineChanged',
  'deviceErrorStringChanged',
  'isOpenChanged',
  'isWritableChanged',
  'nameArgumentChanged',
  'posChanged',
  'readOnlyChanged',
  'sizeChanged',
  'truncateChanged',
  'unbufferedChanged',
  'objectIdChanged',
  'parentChanged',
] as const;

/** The handler names of the property bag, exactly as QML spells them: `onConnected`, ... */
export const HANDLER_KEYS: readonly string[] = INCORE_SIGNALS.map(handlerKey);

function handlerKey(name: string): string {
  return `on${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}

/** A QML handler: called with `this` set to the object. */
export type Handler<Args extends unknown[]> =
  | ((this: InCoreWebSocketBase, ...args: Args) => unknown)
  | null;

/** Every signal of InCore's `WebSocket`, each a {@link Signal} with `connect`/`disconnect`. */
export class InCoreSignals {
  /** A binary message arrived (also fills the read buffer while the IoDevice is open). */
  readonly binaryMessageReceived = new Signal<[message: ArrayBuffer]>('binaryMessageReceived');
  /** The connection has been established. */
  readonly connected = new Signal('connected');
  /** The connection has been closed (emitted once per connection that was established). */
  readonly disconnected = new Signal('disconnected');
  /** An error occurred; emitted every time, even when `error` does not change. */
  readonly errorOccurred = new Signal('errorOccurred');
  /** A socket-level error occurred, with its Qt `IpSocket.Error` / `SocketError` number. */
  readonly ipSocketErrorOccurred = new Signal<[socketError: number]>('ipSocketErrorOccurred');
  /** A TLS error occurred, with its description. */
  readonly sslErrorOccurred = new Signal<[errorString: string]>('sslErrorOccurred');
  /** A text message arrived. */
  readonly textMessageReceived = new Signal<[message: string]>('textMessageReceived');
  /** IoDevice: a complete line (ending in `\n`) can be read. */
  readonly lineAvailableForRead = new Signal('lineAvailableForRead');
  /** IoDevice: new bytes can be read. */
  readonly readyRead = new Signal('readyRead');
  /** Object: construction is complete (emitted once, right after the constructor's task). */
  readonly completed = new Signal('completed');
  readonly autoConnectChanged = new Signal('autoConnectChanged');
  readonly errorChanged = new Signal('errorChanged');
  readonly errorStringChanged = new Signal('errorStringChanged');
  readonly stateChanged = new Signal('stateChanged');
  readonly subProtocolChanged = new Signal('subProtocolChanged');
  readonly urlChanged = new Signal('urlChanged');
  readonly appendChanged = new Signal('appendChanged');
  readonly atEndChanged = new Signal('atEndChanged');
  readonly autoOpenChanged = new Signal('autoOpenChanged');
  readonly bytesAvailableChanged = new Signal('bytesAvailableChanged');
  readonly canReadLineChanged = new Signal('canReadLineChanged');
  readonly deviceErrorStringChanged = new Signal('deviceErrorStringChanged');
  readonly isOpenChanged = new Signal('isOpenChanged');
  readonly isWritableChanged = new Signal('isWritableChanged');
  readonly nameArgumentChanged = new Signal('nameArgumentChanged');
  readonly posChanged = new Signal('posChanged');
  readonly readOnlyChanged = new Signal('readOnlyChanged');
  readonly sizeChanged = new Signal('sizeChanged');
  readonly truncateChanged = new Signal('truncateChanged');
  readonly unbufferedChanged = new Signal('unbufferedChanged');
  readonly objectIdChanged = new Signal('objectIdChanged');
  readonly parentChanged = new Signal('parentChanged');
}

// `onX` handler properties for every signal: assigning a function connects it (called with
// `this` set to the object, as QML handlers are), null disconnects it.
for (const name of INCORE_SIGNALS) {
  Object.defineProperty(InCoreSignals.prototype, handlerKey(name), {
    configurable: true,
    enumerable: false,
    get(this: InCoreSignals): Handler<never[]> {
      return handlersOf(this).get(name)?.fn ?? null;
    },
    set(this: InCoreWebSocketBase, fn: Handler<never[]>) {
      const handlers = handlersOf(this);
      const signal = (this as unknown as Record<string, Signal<never[]>>)[name]!;
      const previous = handlers.get(name);
      if (previous) signal.disconnect(previous.bound);
      if (typeof fn === 'function') {
        const bound = fn.bind(this);
        handlers.set(name, { fn, bound });
        signal.connect(bound);
      } else {
        handlers.delete(name);
      }
    },
  });
}

type HandlerEntry = { fn: (...args: never[]) => unknown; bound: (...args: never[]) => unknown };
const handlerMaps = new WeakMap<object, Map<string, HandlerEntry>>();
function handlersOf(target: object): Map<string, HandlerEntry> {
  let map = handlerMaps.get(target);
  if (!map) {
    map = new Map();
    handlerMaps.set(target, map);
  }
  return map;
}

// Handler properties in TypeScript: `onConnected`, `onTextMessageReceived`, ...
type Capitalized<S extends string> = S extends `${infer F}${infer R}` ? `${Uppercase<F>}${R}` : S;
type SignalArgs<T> = T extends Signal<infer A> ? A : never;
/** The `onX` handler properties of InCore's WebSocket, one per signal. */
export type InCoreHandlers = {
  [K in (typeof INCORE_SIGNALS)[number] as `on${Capitalized<K>}`]: Handler<
    SignalArgs<InCoreSignals[K]>
  >;
};
