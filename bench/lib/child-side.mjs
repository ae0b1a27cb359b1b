// The child's side of the benchmark's IPC protocol (lib/child.mjs is the parent's), and the
// helpers every benchmark child needs: memory after GC, waiting for a condition, a timeout.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits for `setup` (a promise of { handlers, ready }), then answers the parent's requests
 * { id, cmd, ... } with handlers[cmd] (answer { id, ok: true, ...result } or { id, ok: false,
 * error }) and sends { ready: true, ...ready }. A setup failure is sent as { error } prefixed with
 * `name`, and the process exits 1; the process exits when the parent goes away.
 */
export function serveParent(name, setup) {
  setup.then(
    ({ handlers, ready = {} }) => {
      process.on('message', async (request) => {
        try {
          const answer = await handlers[request.cmd](request);
          process.send({ id: request.id, ok: true, ...answer });
        } catch (error) {
          process.send({ id: request.id, ok: false, error: String(error?.stack ?? error) });
        }
      });
      process.on('disconnect', () => process.exit(0));
      process.send({ ready: true, ...ready });
    },
    (error) => {
      process.send?.({ error: `${name}: ${error?.stack ?? error}` });
      process.exit(1);
    },
  );
}

/**
 * process.memoryUsage() after `settleMs` and four full GCs (node --expose-gc; without it, no GC),
 * with the process's peak rss so far (the kernel's high-water mark).
 */
export async function memoryAfterGc(settleMs = 100) {
  if (settleMs > 0) await sleep(settleMs);
  for (let i = 0; i < 4; i++) {
    globalThis.gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers, peakRss: process.resourceUsage().maxRSS * 1024 };
}

/** Resolves once `predicate()` holds, polling every `everyMs`; throws after `ms` naming `what`. */
export async function waitFor(predicate, what, ms, everyMs = 10) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** `promise`, or a rejection after `ms` milliseconds. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
