// Bounds of the waits in the tests, in milliseconds: every wait ends, none is a sleep.

/** Bound of one wait for an event, a message, a close or a listening server. */
export const WAIT_MS = 5000;

/** Bound of one wait on a CLI child process, which starts a fresh Node first. */
export const CLI_WAIT_MS = 8000;

/** How long a "nothing happens" check watches. */
export const QUIET_MS = 300;

/** A handshake timeout long enough never to fire in a test that is not about it. */
export const NO_HANDSHAKE_TIMEOUT_MS = 60_000;
