/**
 * The Overte dialect on Node (`wskit/overte`): Overte's script `WebSocket` and `WebSocketServer`
 * (Overte script API, High Fidelity lineage) on wskit's WebSocket and server. See the README's
 * Overte section for every member and where wskit goes beyond Overte (`wss:`, `binaryType`,
 * `bufferedAmount`, `extensions`, `protocol`).
 */
export * from './exports.js';
export { WebSocket } from './node-websocket.js';
export { WebSocketServer, type WebSocketServerOptions } from './websocket-server.js';
