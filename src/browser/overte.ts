/** `wskit/overte` in browsers (the `browser` export condition): the Overte dialect (see src/dialects/overte/). */
export * from '../dialects/overte/browser.js';
