/** `wskit/incore` on Node: the InCore dialect (see src/dialects/incore/). */
export * from './dialects/incore/node.js';
