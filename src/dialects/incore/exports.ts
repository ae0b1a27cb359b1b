/** What both bindings of the InCore dialect export besides their `WebSocket` class. */
export { Signal } from '../qt/signal.js';
export { InCoreError as Error, InCoreState as State } from './enums.js';
export type { InCoreInit, InCoreProperties } from './init.js';
export { INCORE_SIGNALS, type InCoreHandlers } from './signals.js';
