/**
 * The IoDevice side of InCore's `WebSocket`: the read buffer that binary messages fill while the
 * device is open, the reads over it, the device error, and the change signals of the properties
 * that follow from them (`bytesAvailable`, `canReadLine`, `atEnd`, `size`, `isOpen`, `isWritable`).
 */
import type { Signal } from '../qt/signal.js';
import { toArrayBuffer } from '../shared.js';
import { ReadBuffer } from './read-buffer.js';
import type { InCoreSignals } from './signals.js';

type Derived = {
  bytesAvailable: number;
  canReadLine: boolean;
  atEnd: boolean;
  size: number;
  isOpen: boolean;
  isWritable: boolean;
};

/** One object's IoDevice state; `signals` is the object, whose change signals it emits. */
export class IoDevice {
  readonly #signals: InCoreSignals;
  readonly #readOnly: () => boolean;
  readonly #buffer = new ReadBuffer();
  #isOpen = false;
  #errorString = '';
  #snapshot: Derived = {
    bytesAvailable: 0,
    canReadLine: false,
    atEnd: true,
    size: 0,
    isOpen: false,
    isWritable: false,
  };

  /** `readOnly` reads the object's `readOnly` property. */
  constructor(signals: InCoreSignals, readOnly: () => boolean) {
    this.#signals = signals;
    this.#readOnly = readOnly;
  }

  /** Whether `open()` was called and `close()` not since. */
  get isOpen(): boolean {
    return this.#isOpen;
  }

  /** Open and not read-only. */
  get isWritable(): boolean {
    return this.#isOpen && !this.#readOnly();
  }

  /** Bytes waiting in the read buffer. */
  get size(): number {
    return this.#buffer.size;
  }

  /** The read buffer holds a complete line. */
  get canReadLine(): boolean {
    return this.#buffer.indexOfNewline() >= 0;
  }

  /** The last device-level error, or "". */
  get errorString(): string {
    return this.#errorString;
  }

  /** Opens the device (clearing its error); returns whether it was closed before. */
  open(): boolean {
    if (this.#isOpen) return false;
    this.#isOpen = true;
    this.setError('');
    this.changed();
    return true;
  }

  /** Closes the device and empties the read buffer. */
  close(): void {
    const wasOpen = this.#isOpen;
    this.#isOpen = false;
    this.#buffer.clear();
    if (wasOpen) this.changed();
  }

  /** Up to `maxSize` bytes; empty, with the device error set, when not open. */
  read(maxSize: number): ArrayBuffer {
    return this.#take('read', () => Math.max(0, Math.floor(Number(maxSize) || 0)));
  }

  /** One line, up to and including `\n`, at most `maxSize` bytes (0: no limit). */
  readLine(maxSize: number): ArrayBuffer {
    return this.#take('readLine', () => {
      const newline = this.#buffer.indexOfNewline();
      const n = newline >= 0 ? newline + 1 : this.#buffer.size;
      return maxSize > 0 ? Math.min(n, maxSize) : n;
    });
  }

  /** Everything in the buffer, left in place. */
  peekAll(): ArrayBuffer {
    if (!this.#readable('peekAll')) return new ArrayBuffer(0);
    return toArrayBuffer(this.#buffer.take(this.#buffer.size, true));
  }

  /**
   * Buffers a received binary message while open. Returns false, buffering nothing, when it
   * would take the buffer over `limit` bytes (0: no limit).
   */
  receive(bytes: Uint8Array, limit: number): boolean {
    if (!this.#isOpen || bytes.length === 0) return true;
    if (limit > 0 && this.#buffer.size + bytes.length > limit) return false;
    const hadLine = this.canReadLine;
    this.#buffer.append(bytes.slice());
    this.changed();
    this.#signals.readyRead.emit();
    if (!hadLine && this.canReadLine) this.#signals.lineAvailableForRead.emit();
    return true;
  }

  /** Sets the device error, emitting `deviceErrorStringChanged` when it changes. */
  setError(text: string): void {
    if (this.#errorString === text) return;
    this.#errorString = text;
    this.#signals.deviceErrorStringChanged.emit();
  }

  /** Emits the change signals of the derived properties whose value changed. */
  changed(): void {
    const before = this.#snapshot;
    const now: Derived = {
      bytesAvailable: this.size,
      canReadLine: this.canReadLine,
      atEnd: this.size === 0,
      size: this.size,
      isOpen: this.#isOpen,
      isWritable: this.isWritable,
    };
    this.#snapshot = now;
    for (const key of Object.keys(now) as Array<keyof Derived>) {
      if (before[key] !== now[key])
        ((this.#signals as unknown as Record<string, unknown>)[`${key}Changed`] as Signal).emit();
    }
  }

  #take(what: string, count: () => number): ArrayBuffer {
    if (!this.#readable(what)) return new ArrayBuffer(0);
    const out = this.#buffer.take(count());
    this.changed();
    return toArrayBuffer(out);
  }

  #readable(what: string): boolean {
    if (this.#isOpen) return true;
    this.setError(`${what}(): device not open`);
    return false;
  }
}
