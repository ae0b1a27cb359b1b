/** What to do with one received message, given its publisher's sequence number. */
export type SequenceVerdict =
  /** Deliver it; `missed` messages of this publisher came before it and never arrived. */
  | { deliver: true; missed: number }
  /** Already delivered (a publish retried after a lost reply): drop it. */
  | { deliver: false; missed: 0 };

/**
 * Per topic, the last sequence number seen from each publishing node. Every node numbers its
 * publishes per topic 1, 2, 3...; a receiver that sees 7 after 4 knows exactly 2 are missing,
 * and one that sees 4 again knows it is a duplicate. The first message seen from a node
 * starts its count: what it published before this node subscribed is not missing.
 */
export class SequenceTracker {
  readonly #last = new Map<string, Map<string, number>>();

  /** Records `seq` from `origin` on `topic` and says whether to deliver it. */
  check(topic: string, origin: string, seq: number): SequenceVerdict {
    let origins = this.#last.get(topic);
    if (!origins) {
      origins = new Map();
      this.#last.set(topic, origins);
    }
    const last = origins.get(origin);
    if (last !== undefined && seq <= last) return { deliver: false, missed: 0 };
    origins.set(origin, seq);
    return { deliver: true, missed: last === undefined ? 0 : seq - last - 1 };
  }

  /** Forgets a topic this node no longer reads. */
  forget(topic: string): void {
    this.#last.delete(topic);
  }
}
