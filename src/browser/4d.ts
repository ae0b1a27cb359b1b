/** `wskit/4d` in browsers (the `browser` export condition): the 4D dialect (see src/dialects/4d/). */
export * from '../dialects/4d/browser.js';
