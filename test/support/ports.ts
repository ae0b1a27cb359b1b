// TCP ports for tests that need an address nothing answers on.
import { type AddressInfo, createServer } from 'node:net';

/**
 * A port on 127.0.0.1 that nothing listens on right now: bound on port 0, read, and closed again.
 * Connecting to it is refused; a test may also listen on it later.
 */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}
