/** The standard streams and environment a command runs with (the process's, or a test's). */
export interface Io {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: NodeJS.ProcessEnv;
}

/** The process's streams and environment. */
export function processIo(): Io {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** Writes one `wskit: ...` line to stderr. */
export function printError(io: Io, message: string): void {
  // One line, whatever the error's message (OpenSSL's have line breaks).
  io.stderr.write(`wskit: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`);
}

/** Calls `handler` on SIGINT and SIGTERM until the returned function is called. */
export function onSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
  };
}
