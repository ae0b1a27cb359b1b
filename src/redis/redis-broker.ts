import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createClient, ErrorReply, RESP_TYPES } from 'redis';
import { type Broker, BrokerError, type BrokerNode, type BrokerPayload } from '../node/broker.js';
import { PublishQueue } from './publish-queue.js';
import { SequenceTracker } from './sequence-tracker.js';

/** Settings of {@link redisBroker}. */
export interface RedisBrokerOptions {
  /** Redis to use, `redis://[[user]:password@]host[:port][/db]` or `rediss://` (default `redis://127.0.0.1:6379`). */
  url?: string;
  /** Prefix of the Redis keys (one stream per topic), so several applications can share a Redis (default `wskit:topic:`). */
  prefix?: string;
  /** Messages kept per topic for nodes that catch up after a brief disconnect (default 1000; approximate, as Redis trims in blocks). */
  history?: number;
  /** Most publishes waiting for Redis while it is unreachable (default 10000); more are refused. */
  maxQueued?: number;
  /** Most bytes of publishes waiting for Redis (default 64 MiB); more are refused. */
  maxQueuedBytes?: number;
  /** Milliseconds to wait for Redis at start before failing with `ERR_WS_BROKER_UNAVAILABLE` (default 5000). */
  connectTimeout?: number;
}

interface RedisBrokerEvents {
  /** The connection to Redis was lost; publishes are queued until it is back. */
  down: [error: Error];
  /** The connection to Redis is back; queued publishes are on their way. */
  up: [];
}

type Client = ReturnType<typeof createClient>;
type StreamEntry = [id: Buffer, fields: Buffer[]];
type XReadReply = Array<[key: Buffer, entries: StreamEntry[]]> | null;

/** Replies as Buffers, so that binary messages arrive intact. */
const BUFFERS = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const;
/** How long one XREAD blocks at most; interest changes also interrupt it (CLIENT UNBLOCK). */
const BLOCK_MS = 1000;
/** Entries read per topic per XREAD. */
const READ_COUNT = 1000;
/** Longest wait between reconnection attempts. */
const MAX_RETRY_MS = 1000;
/** How long closing waits for queued publishes to reach Redis. */
const CLOSE_FLUSH_MS = 2000;

/**
 * Carries a server's publishes to every other server on the same Redis, one Redis stream per
 * topic:
 *
 * - **Order**: each node writes its publishes on one connection, in order; every node reads a
 *   topic's stream in order, so it sees each publisher's messages in the order they were sent.
 * - **Interest**: a node reads only the streams of topics it has subscribers for.
 * - **Catch-up**: a node remembers where it is in each stream; after a brief disconnect it reads
 *   on from there. What was trimmed meanwhile (beyond `history` messages per topic), or lost in
 *   a Redis restart, is reported as the server's `gap` event with the count missed, known from
 *   each publisher's sequence numbers.
 * - **Publishing while Redis is down** queues up to `maxQueued` messages or `maxQueuedBytes`,
 *   sent in order once Redis is back; past that, `publish` throws `ERR_WS_BROKER_QUEUE_FULL`.
 * - **Redis unreachable at start** fails the server's `brokerReady()` and emits its `error`
 *   event with `ERR_WS_BROKER_UNAVAILABLE`.
 *
 * One broker serves one server; it uses two connections (commands, and a blocking reader).
 */
export class RedisBroker extends EventEmitter<RedisBrokerEvents> implements Broker {
  /** This node's id, carried in every message it publishes. */
  readonly id = randomUUID();
  readonly #url: string;
  readonly #prefix: string;
  readonly #history: string;
  readonly #connectTimeout: number;
  readonly #queue: PublishQueue;
  readonly #tracker = new SequenceTracker();
  /** Per topic: the id of the last stream entry read, or null while it is being looked up. */
  readonly #cursors = new Map<string, string | null>();
  /** Per topic: the sequence number of this node's last publish. */
  readonly #sequence = new Map<string, number>();
  #node: BrokerNode | null = null;
  #client: Client | null = null;
  #reader: Client | null = null;
  #closed = false;
  #connected = false;
  #up = false;
  #lookups = 0;
  #settleWaiters: Array<() => void> = [];
  #readerId: string | null = null;
  #runId: string | null = null;
  #reading = 0;
  #readingNow = false;
  #wakeIdle: (() => void) | null = null;
  #loop: Promise<void> | null = null;

  constructor(options: RedisBrokerOptions = {}) {
    super();
    this.#url = options.url ?? 'redis://127.0.0.1:6379';
    this.#prefix = options.prefix ?? 'wskit:topic:';
    this.#history = String(positive('history', options.history ?? 1000));
    this.#connectTimeout = positive('connectTimeout', options.connectTimeout ?? 5000);
    const link = {
      isReady: () => this.#up,
      send: (args: ReadonlyArray<string | Buffer>) => this.#client!.sendCommand(args),
    };
    this.#queue = new PublishQueue(
      link,
      positive('maxQueued', options.maxQueued ?? 10_000),
      positive('maxQueuedBytes', options.maxQueuedBytes ?? 64 * 1024 * 1024),
      (error) =>
        this.#node?.error(
          new BrokerError(
            'ERR_WS_BROKER_UNAVAILABLE',
            `Redis refused a publish: ${error.message}`,
            {
              cause: error,
            },
          ),
        ),
    );
  }

  /** Topics whose streams this node reads: those it has subscribers for. */
  get topics(): string[] {
    return [...this.#cursors.keys()];
  }

  /** Connects to Redis; rejects with `ERR_WS_BROKER_UNAVAILABLE` when it cannot be reached. */
  async attach(node: BrokerNode): Promise<void> {
    if (this.#node)
      throw new BrokerError(
        'ERR_WS_BROKER_CLOSED',
        'a RedisBroker serves one server: create one per server',
      );
    if (this.#closed) throw new BrokerError('ERR_WS_BROKER_CLOSED', 'this RedisBroker was closed');
    this.#node = node;
    const options = {
      url: this.#url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: this.#connectTimeout,
        reconnectStrategy: (retries: number, cause: Error) => {
          if (this.#closed) return false;
          if (!this.#connected) return cause;
          return Math.min(20 * 2 ** retries, MAX_RETRY_MS);
        },
      },
    };
    const client = createClient(options);
    const reader = createClient(options);
    this.#client = client;
    this.#reader = reader;
    client.on('error', (error: Error) => this.#lost(error));
    reader.on('error', () => {});
    client.on('ready', () => this.#ready());
    reader.on('ready', () => this.#wake());
    try {
      await Promise.all([client.connect(), reader.connect()]);
    } catch (error) {
      this.#closed = true;
      destroy(client);
      destroy(reader);
      const cause = error instanceof Error ? error : new Error(String(error));
      throw new BrokerError(
        'ERR_WS_BROKER_UNAVAILABLE',
        `cannot reach Redis at ${redactUrl(this.#url)} (${cause.message}): start Redis or fix the url option`,
        { cause },
      );
    }
    this.#connected = true;
    this.#ready();
    this.#loop = this.#readLoop();
  }

  /** Queues the publish for Redis; throws `ERR_WS_BROKER_QUEUE_FULL` past the bound. */
  publish(node: BrokerNode, topic: string, payload: BrokerPayload): void {
    if (this.#closed || node !== this.#node)
      throw new BrokerError(
        'ERR_WS_BROKER_CLOSED',
        'publish after the server (and its RedisBroker) closed',
      );
    const seq = (this.#sequence.get(topic) ?? 0) + 1;
    const text = typeof payload === 'string';
    // A copy: the caller may reuse its buffer while the publish waits for Redis.
    const data = text ? payload : Buffer.from(payload);
    const bytes = text ? Buffer.byteLength(payload) : data.length;
    this.#queue.push({
      args: [
        'XADD',
        this.#prefix + topic,
        'MAXLEN',
        '~',
        this.#history,
        '*',
        'o',
        this.id,
        's',
        String(seq),
        't',
        text ? 't' : 'b',
        'd',
        data,
      ],
      bytes,
    });
    this.#sequence.set(topic, seq);
  }

  interest(_node: BrokerNode, topic: string, subscribed: boolean): void {
    if (this.#closed) return;
    if (subscribed) {
      this.#cursors.set(topic, null);
      this.#lookUp(topic);
    } else {
      this.#cursors.delete(topic);
      this.#tracker.forget(topic);
    }
    this.#wake();
  }

  /** Resolves once Redis has every publish made so far and every subscribed topic is being read. */
  async settled(): Promise<void> {
    for (;;) {
      if (this.#closed) throw new BrokerError('ERR_WS_BROKER_CLOSED', 'the RedisBroker closed');
      await this.#queue.drained();
      if (this.#queue.length === 0 && this.#lookups === 0 && !this.#hasNullCursor()) return;
      await new Promise<void>((resolve) => this.#settleWaiters.push(resolve));
    }
  }

  /** Sends what is still queued (waiting up to 2 s), then closes both connections. */
  async detach(node: BrokerNode): Promise<void> {
    if (node !== this.#node || this.#closed) return;
    if (this.#up) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#queue.drained(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_FLUSH_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    this.#closed = true;
    const dropped = this.#queue.clear();
    if (dropped > 0) {
      node.error(
        new BrokerError(
          'ERR_WS_BROKER_CLOSED',
          `${dropped} publishes never reached Redis: the server closed while Redis was unreachable`,
        ),
      );
    }
    this.#notifySettled();
    this.#wake();
    if (this.#client) destroy(this.#client);
    if (this.#reader) destroy(this.#reader);
    await this.#loop;
  }

  // -- connection state -------------------------------------------------------------------------

  #lost(error: Error): void {
    // Only a lost connection counts (the client is then no longer ready), not any error event.
    if (!this.#up || this.#closed || this.#client?.isReady) return;
    this.#up = false;
    this.emit('down', error);
  }

  #ready(): void {
    if (this.#closed || this.#up || !this.#connected || !this.#client?.isReady) return;
    this.#up = true;
    if (this.listenerCount('up') > 0) this.emit('up');
    for (const [topic, cursor] of this.#cursors) if (cursor === null) this.#lookUp(topic);
    this.#queue.pump();
    this.#notifySettled();
  }

  /** Finds where `topic`'s stream ends now: this node reads what comes after. */
  #lookUp(topic: string): void {
    const client = this.#client;
    if (!this.#up || !client) return;
    this.#lookups++;
    client.sendCommand(['XREVRANGE', this.#prefix + topic, '+', '-', 'COUNT', '1']).then(
      (reply) => {
        this.#lookups--;
        const last = (reply as unknown as Array<[string, unknown]>)[0]?.[0] ?? '0-0';
        if (this.#cursors.get(topic) === null) this.#cursors.set(topic, last);
        this.#wake();
        this.#notifySettled();
      },
      (error: unknown) => {
        this.#lookups--;
        // A lost connection: looked up again when it is back. A reply error is reported.
        if (error instanceof ErrorReply) {
          this.#cursors.set(topic, '0-0');
          this.#node?.error(
            new BrokerError(
              'ERR_WS_BROKER_UNAVAILABLE',
              `Redis refused to read topic ${topic}: ${error.message}`,
              {
                cause: error,
              },
            ),
          );
        }
        this.#notifySettled();
      },
    );
  }

  #hasNullCursor(): boolean {
    for (const cursor of this.#cursors.values()) if (cursor === null) return true;
    return false;
  }

  #notifySettled(): void {
    const waiters = this.#settleWaiters;
    this.#settleWaiters = [];
    for (const wake of waiters) wake();
  }

  // -- reading ----------------------------------------------------------------------------------

  /** The reader's loop: XREAD BLOCK over the streams of the subscribed topics, from each cursor. */
  async #readLoop(): Promise<void> {
    const reader = this.#reader!;
    while (!this.#closed) {
      const keys: string[] = [];
      const ids: string[] = [];
      for (const [topic, cursor] of this.#cursors) {
        if (cursor === null) continue;
        keys.push(this.#prefix + topic);
        ids.push(cursor);
      }
      if (!reader.isReady || keys.length === 0) {
        await this.#idle();
        continue;
      }
      try {
        if (this.#readerId === null) {
          await this.#identify(reader);
          continue;
        }
        this.#reading++;
        this.#readingNow = true;
        const reply = (await reader.sendCommand(
          [
            'XREAD',
            'COUNT',
            String(READ_COUNT),
            'BLOCK',
            String(BLOCK_MS),
            'STREAMS',
            ...keys,
            ...ids,
          ],
          BUFFERS,
        )) as XReadReply;
        this.#readingNow = false;
        if (reply) this.#receive(reply);
      } catch (error) {
        this.#readingNow = false;
        this.#readerId = null;
        if (this.#closed) return;
        if (error instanceof ErrorReply) {
          this.#node?.error(
            new BrokerError(
              'ERR_WS_BROKER_UNAVAILABLE',
              `Redis refused to read: ${error.message}`,
              { cause: error },
            ),
          );
        }
        await this.#idle();
      }
    }
  }

  /**
   * After each (re)connection: the reader's client id (to interrupt its XREAD), and whether
   * Redis restarted empty (another run id), in which case every stream is read from its start.
   */
  async #identify(reader: Client): Promise<void> {
    const id = String(await reader.sendCommand(['CLIENT', 'ID']));
    const info = String(await reader.sendCommand(['INFO', 'server']));
    const runId = /run_id:([0-9a-f]+)/.exec(info)?.[1] ?? null;
    if (this.#runId !== null && runId !== this.#runId) {
      for (const [topic, cursor] of this.#cursors)
        if (cursor !== null) this.#cursors.set(topic, '0-0');
    }
    this.#runId = runId;
    this.#readerId = id;
  }

  #receive(reply: NonNullable<XReadReply>): void {
    const node = this.#node;
    const prefixLength = Buffer.byteLength(this.#prefix);
    for (const [key, entries] of reply) {
      const topic = key.subarray(prefixLength).toString();
      if (!this.#cursors.has(topic) || entries.length === 0) continue;
      for (const [id, fields] of entries) {
        if (this.#closed || !this.#cursors.has(topic)) break;
        this.#cursors.set(topic, id.toString());
        const message = parseEntry(fields);
        if (!message || message.origin === this.id) continue;
        const verdict = this.#tracker.check(topic, message.origin, message.seq);
        if (verdict.missed > 0) node?.gap(topic, verdict.missed);
        if (verdict.deliver) node?.deliver(topic, message.payload);
      }
    }
  }

  /** Waits for something to do: a new topic, the reader back, closing (or 1 s at most). */
  #idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, BLOCK_MS);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.#wakeIdle === done) self.#wakeIdle = null;
        resolve();
      }
      this.#wakeIdle = done;
    });
  }

  /** Makes the reader look at the topics again: ends its wait, or interrupts its XREAD. */
  #wake(): void {
    if (this.#wakeIdle) {
      this.#wakeIdle();
      return;
    }
    if (this.#readingNow && this.#readerId !== null) this.#unblock(this.#reading, 0);
  }

  /** CLIENT UNBLOCK the reader's XREAD; retried briefly if it was sent but not blocking yet. */
  #unblock(read: number, attempt: number): void {
    const client = this.#client;
    if (!client || !this.#up || this.#closed) return;
    client.sendCommand(['CLIENT', 'UNBLOCK', this.#readerId!]).then(
      (unblocked) => {
        if (Number(unblocked) === 0 && this.#readingNow && this.#reading === read && attempt < 20)
          setTimeout(() => this.#unblock(read, attempt + 1), 5);
      },
      () => {},
    );
  }
}

/** A RedisBroker for `new WebSocketServer({ port, broker: redisBroker({ url }) })`. */
export function redisBroker(options: RedisBrokerOptions = {}): RedisBroker {
  return new RedisBroker(options);
}

function parseEntry(
  fields: Buffer[],
): { origin: string; seq: number; payload: BrokerPayload } | null {
  let origin: string | null = null;
  let seq = Number.NaN;
  let type = '';
  let data: Buffer | null = null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString();
    const value = fields[i + 1]!;
    if (name === 'o') origin = value.toString();
    else if (name === 's') seq = Number(value.toString());
    else if (name === 't') type = value.toString();
    else if (name === 'd') data = value;
  }
  // Entries someone else wrote into our keys are skipped rather than trusted.
  if (origin === null || !Number.isSafeInteger(seq) || data === null) return null;
  return { origin, seq, payload: type === 't' ? data.toString() : data };
}

/** Closes a client now, whatever its state (destroy() throws on one already closed). */
function destroy(client: Client): void {
  if (client.isOpen) client.destroy();
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`redisBroker option ${name} must be a positive integer, got ${value}`);
  return value;
}

/** The url without its password, for messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*):[^@/]*@/, '//$1:***@');
}
