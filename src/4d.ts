/**
 * `wskit/4d` for Node: 4D's `4D.WebSocket` class over wskit's own client (see
 * src/dialects/4d/).
 *
 * @module wskit/4d
 */
export * from './dialects/4d/node.js';
