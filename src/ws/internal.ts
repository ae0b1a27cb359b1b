import type { ClientRequest } from 'node:http';

/** Hooks between the WebSocket, its client handshake and the server (not public API). */
export const kSetSocket = Symbol('wskit.ws.setSocket');
export const kFailHandshake = Symbol('wskit.ws.failHandshake');
export const kAbortHandshake = Symbol('wskit.ws.abortHandshake');
export const kAccepted = Symbol('wskit.ws.accepted');
export const kSetUrl = Symbol('wskit.ws.setUrl');
/** Marks a handshake request the WebSocket aborted itself. */
export const kAborted = Symbol('wskit.ws.aborted');

/** Whether a request was aborted by the handshake itself (its `error` is then not reported). */
export function wasAborted(request: ClientRequest): boolean {
  return (request as ClientRequest & { [kAborted]?: boolean })[kAborted] === true;
}

const SUBPROTOCOL = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;

/** Checks the subprotocols a client asks for, as `ws` does. */
export function checkSubprotocols(protocols: readonly unknown[]): Set<string> {
  const set = new Set<string>();
  for (const protocol of protocols) {
    if (typeof protocol !== 'string' || !SUBPROTOCOL.test(protocol) || set.has(protocol)) {
      throw new SyntaxError('An invalid or duplicated subprotocol was specified');
    }
    set.add(protocol);
  }
  return set;
}
