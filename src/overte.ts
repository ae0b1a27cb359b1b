/** `wskit/overte` on Node: the Overte dialect (see src/dialects/overte/). */
export * from './dialects/overte/node.js';
