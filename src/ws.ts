/**
 * `wskit/ws`: `ws`'s API on wskit's engine. Switch by changing the import:
 * `import WebSocket, { WebSocketServer } from 'wskit/ws'` or `require('wskit/ws')`.
 * See the README section "Coming from ws".
 */
export * from './ws/index.js';
export { default } from './ws/index.js';
