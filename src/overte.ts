/**
 * `wskit/overte` for Node: Overte's script `WebSocket` and `WebSocketServer` on wskit's client
 * and server (see src/dialects/overte/).
 *
 * @module wskit/overte
 */
export * from './dialects/overte/node.js';
