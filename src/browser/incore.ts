/** `wskit/incore` in browsers (the `browser` export condition): the InCore dialect (see src/dialects/incore/). */
export * from '../dialects/incore/browser.js';
