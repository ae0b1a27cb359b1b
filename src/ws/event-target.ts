/**
 * `addEventListener`, `removeEventListener` and the `on*` attributes over the socket's
 * EventEmitter, as `ws` bridges them: each DOM-style listener is an emitter listener wrapping it.
 */
import {
  type EventListenerLike,
  kForAttribute,
  kListener,
  type WebSocketEventMap,
  type WrappedListener,
  wrapListener,
} from './events.js';
import type { WebSocket } from './websocket.js';

type AnyListener = (...args: unknown[]) => void;

function wrappers(socket: WebSocket, type: string): Array<Partial<WrappedListener>> {
  return socket.listeners(type as 'open') as Array<Partial<WrappedListener>>;
}

/** Adds `listener` for `type`; a listener already added (not by an attribute) is not added twice. */
export function addListener(
  socket: WebSocket,
  type: string,
  listener: EventListenerLike<never>,
  options: { once: boolean; attribute: boolean; wasClean: () => boolean },
): void {
  if (!options.attribute) {
    for (const w of wrappers(socket, type)) {
      if (w[kListener] === listener && !w[kForAttribute]) return;
    }
  }
  const wrapper = wrapListener(socket, type, listener, options.wasClean) as WrappedListener | null;
  if (wrapper === null) return;
  wrapper[kListener] = listener;
  wrapper[kForAttribute] = options.attribute;
  if (options.once) socket.once(type as 'open', wrapper as unknown as AnyListener);
  else socket.on(type as 'open', wrapper as unknown as AnyListener);
}

/** Removes the first wrapper of `listener` that an attribute did not install. */
export function removeListener(socket: WebSocket, type: string, listener: unknown): void {
  for (const w of wrappers(socket, type)) {
    if (w[kListener] === listener && !w[kForAttribute]) {
      socket.removeListener(type as 'open', w as AnyListener);
      return;
    }
  }
}

/** The listener an `on*` attribute holds, or null. */
export function attributeOf(socket: WebSocket, type: keyof WebSocketEventMap): unknown {
  for (const w of wrappers(socket, type)) {
    if (w[kForAttribute]) return w[kListener];
  }
  return null;
}

/** Sets an `on*` attribute: replaces its listener, or removes it when given a non-function. */
export function setAttribute(
  socket: WebSocket,
  type: keyof WebSocketEventMap,
  listener: unknown,
  wasClean: () => boolean,
): void {
  for (const w of wrappers(socket, type)) {
    if (w[kForAttribute]) {
      socket.removeListener(type as 'open', w as AnyListener);
      break;
    }
  }
  if (typeof listener !== 'function') return;
  addListener(socket, type, listener as EventListenerLike<never>, {
    once: false,
    attribute: true,
    wasClean,
  });
}
