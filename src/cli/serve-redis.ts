/**
 * `wskit serve --broadcast --redis <url>`: every serve process on the same Redis shares one
 * broadcast topic, so clients of any of them form one chat. wskit/redis (and with it the `redis`
 * package) is loaded only when the option is given.
 */
import type { Broker, WebSocket, WebSocketServer } from '../index.js';
import type { RedisBroker } from '../redis/index.js';
import { UsageError } from './args.js';

/** The topic `serve --broadcast --redis` publishes on and subscribes every client to. */
export const BROADCAST_TOPIC = 'wskit:serve:broadcast';

/** The broker for `--redis <url>`; a UsageError if the url or the redis package is missing. */
export async function redisBrokerFor(url: string): Promise<RedisBroker> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--redis takes a URL such as redis://127.0.0.1:6379, got "${url}"`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new UsageError(`--redis takes a redis:// or rediss:// URL, got "${url}"`);
  let module: typeof import('../redis/index.js');
  try {
    module = await import('../redis/index.js');
  } catch (error) {
    throw new UsageError(
      `--redis needs the redis package next to wskit: npm install redis (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return module.redisBroker({ url });
}

/**
 * Waits until the broker is connected. On failure, returns its message (the server is then
 * closed by the caller); the server's `error` event is quiet meanwhile, as the caller reports it.
 */
export async function brokerFailure(server: WebSocketServer): Promise<string | null> {
  const quiet = () => {};
  server.on('error', quiet);
  try {
    await server.brokerReady();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    server.removeListener('error', quiet);
  }
}

/** Logs the broker's connection losses and recoveries. */
export function logBroker(broker: Broker, log: (text: string) => void): void {
  const emitter = broker as RedisBroker;
  emitter.on('down', (error) =>
    log(`Redis connection lost (${error.message}): messages are queued until it is back`),
  );
  emitter.on('up', () => log('Redis connection back'));
}

/** Publishes one client's message to every client of every serve on the same Redis. */
export function shareMessage(
  server: WebSocketServer,
  data: string | Uint8Array,
  log: (text: string) => void,
): void {
  try {
    server.publish(BROADCAST_TOPIC, data);
  } catch (error) {
    log(`message not shared: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Subscribes a new client to the shared broadcast; resolves once that holds on every node. */
export async function joinBroadcast(server: WebSocketServer, ws: WebSocket): Promise<void> {
  ws.subscribe(BROADCAST_TOPIC);
  // A broker failure is reported by the server's error event and the broker's logs.
  await server.brokerReady().catch(() => {});
}
