/** `wskit/4d` on Node: the 4D dialect (see src/dialects/4d/). */
export * from './dialects/4d/node.js';
