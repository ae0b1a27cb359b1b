/**
 * `wskit/incore` for Node: InCore's QML `WebSocket` object on wskit's WebSocket (see
 * src/dialects/incore/).
 *
 * @module wskit/incore
 */
export * from './dialects/incore/node.js';
