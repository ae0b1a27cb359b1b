import { WebSocketError, type WebSocketErrorCode } from '../errors.js';

/** A message as a broker carries it: a string is a text message, bytes a binary one. */
export type BrokerPayload = string | Uint8Array;

/**
 * One server's side of a broker: what the broker calls on the server. Implemented by wskit; a
 * broker implementation only calls it.
 */
export interface BrokerNode {
  /** A message published on another node, for this node's subscribers of `topic`. */
  deliver(topic: string, payload: BrokerPayload): void;
  /** `missed` messages of `topic` published elsewhere will never reach this node. */
  gap(topic: string, missed: number): void;
  /** A failure the application should hear about (reported as the server's `error` event). */
  error(error: Error): void;
  /** Topics this node has subscribers for right now. */
  interests(): Iterable<string>;
}

/**
 * Carries publishes between servers (nodes): `wskit/redis` across processes and machines,
 * {@link InProcessBroker} between servers of one process. A server calls `attach` once when it
 * is created, `interest` when it gains its first or loses its last subscriber of a topic,
 * `publish` for each publish (after which it delivers to its own subscribers itself: a broker
 * must not hand a node back its own messages), and `detach` when it closes.
 */
export interface Broker {
  /** Connects this node; rejects with a {@link BrokerError} when the broker is unreachable. */
  attach(node: BrokerNode): Promise<void>;
  /** Forwards a publish to the other nodes, in order per node; throws a {@link BrokerError} to refuse it. */
  publish(node: BrokerNode, topic: string, payload: BrokerPayload): void;
  /** `node` now has subscribers for `topic` (true) or no longer has any (false). */
  interest(node: BrokerNode, topic: string, subscribed: boolean): void;
  /** Resolves once every `interest` and `publish` call made so far has taken effect. */
  settled(node: BrokerNode): Promise<void>;
  /** Disconnects `node`; a broker that serves one node releases its connections. */
  detach(node: BrokerNode): Promise<void>;
}

/** Codes a broker reports with. */
export type BrokerErrorCode = Extract<
  WebSocketErrorCode,
  'ERR_WS_BROKER_UNAVAILABLE' | 'ERR_WS_BROKER_QUEUE_FULL' | 'ERR_WS_BROKER_CLOSED'
>;

/**
 * A broker could not do its job: unreachable at start (`ERR_WS_BROKER_UNAVAILABLE`), a publish
 * refused because too many wait for a lost connection (`ERR_WS_BROKER_QUEUE_FULL`), or used
 * after it was closed (`ERR_WS_BROKER_CLOSED`).
 */
export class BrokerError extends WebSocketError {
  override name = 'BrokerError';

  constructor(code: BrokerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * A broker between the servers of one process: a publish on one reaches the subscribers of
 * every other attached server at once, in order. Share one instance between servers (for
 * example one per port); a server without a broker only publishes to its own sockets.
 */
export class InProcessBroker implements Broker {
  readonly #interest = new Map<string, Set<BrokerNode>>();
  readonly #nodes = new Set<BrokerNode>();

  attach(node: BrokerNode): Promise<void> {
    this.#nodes.add(node);
    return Promise.resolve();
  }

  publish(node: BrokerNode, topic: string, payload: BrokerPayload): void {
    if (!this.#nodes.has(node))
      throw new BrokerError('ERR_WS_BROKER_CLOSED', 'this server is not attached to the broker');
    const nodes = this.#interest.get(topic);
    if (!nodes) return;
    for (const other of nodes) if (other !== node) other.deliver(topic, payload);
  }

  interest(node: BrokerNode, topic: string, subscribed: boolean): void {
    let nodes = this.#interest.get(topic);
    if (subscribed) {
      if (!nodes) {
        nodes = new Set();
        this.#interest.set(topic, nodes);
      }
      nodes.add(node);
    } else if (nodes?.delete(node) && nodes.size === 0) {
      this.#interest.delete(topic);
    }
  }

  settled(): Promise<void> {
    return Promise.resolve();
  }

  detach(node: BrokerNode): Promise<void> {
    this.#nodes.delete(node);
    for (const topic of [...this.#interest.keys()]) this.interest(node, topic, false);
    return Promise.resolve();
  }
}
