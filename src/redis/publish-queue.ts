import type { Buffer } from 'node:buffer';
import { ErrorReply } from 'redis';
import { BrokerError } from '../node/broker.js';

/** One XADD waiting to be acknowledged by Redis. */
export interface QueuedPublish {
  /** The command's arguments, built once. */
  readonly args: ReadonlyArray<string | Buffer>;
  readonly bytes: number;
}

/** Where the queue sends its commands. */
export interface CommandLink {
  /** True while commands can be sent. */
  isReady(): boolean;
  send(args: ReadonlyArray<string | Buffer>): Promise<unknown>;
}

/** Most commands written and not yet answered; more wait in the queue. */
const MAX_IN_FLIGHT = 1024;

/**
 * Publishes on their way to Redis, in order, bounded. A publish stays queued until Redis has
 * answered it: when the connection drops, every unanswered one is sent again once it is back
 * (a publish whose answer was lost may so arrive twice; receivers drop the second copy by its
 * sequence number). While Redis is unreachable publishes wait here up to `maxMessages` or
 * `maxBytes`; past that, `push` refuses with `ERR_WS_BROKER_QUEUE_FULL`.
 */
export class PublishQueue {
  readonly #queue: QueuedPublish[] = [];
  #head = 0;
  #sent = 0;
  #bytes = 0;
  #generation = 0;
  #waiters: Array<() => void> = [];

  constructor(
    readonly link: CommandLink,
    readonly maxMessages: number,
    readonly maxBytes: number,
    /** A publish Redis answered with an error (not a lost connection): it is dropped. */
    readonly onRejected: (error: Error) => void,
  ) {}

  /** Publishes waiting for Redis's answer. */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  /** Queues one publish and sends it when possible; throws when the queue is full. */
  push(entry: QueuedPublish): void {
    if (this.length >= this.maxMessages || this.#bytes + entry.bytes > this.maxBytes) {
      throw new BrokerError(
        'ERR_WS_BROKER_QUEUE_FULL',
        `publish refused: ${this.length} messages (${this.#bytes} bytes) already wait for Redis, the most allowed is ${this.maxMessages} messages or ${this.maxBytes} bytes; wait for Redis to come back, or raise maxQueued/maxQueuedBytes`,
      );
    }
    this.#queue.push(entry);
    this.#bytes += entry.bytes;
    this.pump();
  }

  /** Sends what is queued and not yet in flight (call again once the link is ready). */
  pump(): void {
    const link = this.link;
    while (link.isReady() && this.#sent < this.length && this.#sent < MAX_IN_FLIGHT) {
      const entry = this.#queue[this.#head + this.#sent]!;
      this.#sent++;
      const generation = this.#generation;
      link.send(entry.args).then(
        () => {
          if (generation === this.#generation) this.#acknowledged();
        },
        (error: unknown) => {
          if (generation !== this.#generation) return;
          if (error instanceof ErrorReply) {
            this.#acknowledged();
            this.onRejected(error);
            return;
          }
          // The connection is gone: everything unanswered goes again, in order, when it is back.
          this.#generation++;
          this.#sent = 0;
        },
      );
    }
  }

  /** Resolves once every publish queued so far is answered. */
  drained(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Drops everything still queued (the broker is closing); returns how many were dropped. */
  clear(): number {
    const dropped = this.length;
    this.#generation++;
    this.#queue.length = 0;
    this.#head = 0;
    this.#sent = 0;
    this.#bytes = 0;
    this.#wake();
    return dropped;
  }

  #acknowledged(): void {
    const entry = this.#queue[this.#head]!;
    this.#head++;
    this.#sent--;
    this.#bytes -= entry.bytes;
    // Compact now and then rather than shift() per message.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    if (this.length === 0) this.#wake();
    else this.pump();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
