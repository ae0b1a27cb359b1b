/**
 * The server side of the opening handshake as a sans-I/O state machine (RFC 6455 section 4.2):
 * it takes the client's request (as bytes, or already parsed by an HTTP server), checks it, and
 * turns the application's decision into the bytes of the answer. The transport only moves bytes,
 * runs the application's hooks and timers, and closes what was refused.
 */
import {
  acceptDeflateOffer,
  type DeflateAgreement,
  type DeflateNegotiationOptions,
} from '../extensions/permessage-deflate.js';
import { type HeadLimits, HttpRequestHeadParser, RequestHeadError } from '../http-head-parser.js';
import type { Platform } from '../platform.js';
import { checkUpgradeRequest, type UpgradeRequest } from './request.js';
import { buildAcceptResponse, buildRejectResponse } from './response.js';

/** Settings of one {@link ServerHandshake}. */
export interface ServerHandshakeOptions extends HeadLimits {
  platform: Platform;
  /** Accept permessage-deflate offers (RFC 7692) with these settings; null or absent to decline. */
  perMessageDeflate?: DeflateNegotiationOptions | null;
}

/** What the client's request amounted to. */
export type ServerHandshakeEvent =
  /**
   * A valid upgrade request: decide with {@link ServerHandshake.accept} or
   * {@link ServerHandshake.reject}. `rest` holds bytes that followed the request head.
   */
  | {
      type: 'request';
      /** Offered subprotocols, in the client's order, without duplicates. */
      protocols: readonly string[];
      /** The client's `Sec-WebSocket-Extensions` offer, if any. */
      extensions: string | undefined;
      /** The request line and headers, when the request came in as bytes. */
      target?: string;
      headers?: Readonly<Record<string, string>>;
      /** Bytes that followed the request head (empty with `receiveRequest`). */
      rest: Uint8Array;
    }
  /** An invalid request; the refusal to send is queued in {@link ServerHandshake.dataToSend}. */
  | { type: 'rejected'; status: number; message: string };

/** What {@link ServerHandshake.accept} agreed on. */
export interface ServerAcceptance {
  /** The selected subprotocol, or the empty string. */
  protocol: string;
  /** The `Sec-WebSocket-Extensions` answer, or the empty string. */
  extensions: string;
  /** The permessage-deflate agreement, when an offer was accepted. */
  deflate: DeflateAgreement | null;
}

/** Where a {@link ServerHandshake} is. */
export type ServerHandshakeState = 'request' | 'deciding' | 'accepted' | 'rejected';

/**
 * One opening handshake from the server's side. Feed the request with {@link receiveData}
 * (bytes) or {@link receiveRequest} (parsed by an HTTP server); after a `request` event call
 * {@link accept} or {@link reject}; write {@link dataToSend}. After `accepted`, the connection
 * carries WebSocket frames; after `rejected`, close it once the answer is written.
 */
export class ServerHandshake {
  readonly #options: ServerHandshakeOptions;
  #parser: HttpRequestHeadParser | null = null;
  #state: ServerHandshakeState = 'request';
  #key = '';
  #protocols: readonly string[] = [];
  #extensions: string | undefined;
  #output = '';

  constructor(options: ServerHandshakeOptions) {
    this.#options = options;
  }

  /** Where the handshake is. */
  get state(): ServerHandshakeState {
    return this.#state;
  }

  /** The answer queued so far (once), then the empty string. */
  dataToSend(): string {
    const output = this.#output;
    this.#output = '';
    return output;
  }

  /** Feeds request bytes; returns an event once the request head is complete, else null. */
  receiveData(chunk: Uint8Array): ServerHandshakeEvent | null {
    this.#expect('request');
    this.#parser ??= new HttpRequestHeadParser(this.#options);
    let parsed: ReturnType<HttpRequestHeadParser['push']>;
    try {
      parsed = this.#parser.push(chunk);
    } catch (error) {
      if (!(error instanceof RequestHeadError)) throw error;
      return this.#refuse(error.status, error.message);
    }
    if (!parsed) return null;
    const { head, rest } = parsed;
    const event = this.receiveRequest(head);
    if (event.type === 'request') {
      return { ...event, target: head.target, headers: head.headers, rest };
    }
    return event;
  }

  /** Takes a request an HTTP server has parsed (its remaining bytes are the server's to pass on). */
  receiveRequest(request: UpgradeRequest): ServerHandshakeEvent {
    this.#expect('request');
    const maxHeaders = this.#options.maxHeaders;
    if (maxHeaders !== undefined && (request.headerCount ?? 0) > maxHeaders) {
      return this.#refuse(431, `too many request headers (more than ${maxHeaders})`);
    }
    const check = checkUpgradeRequest(request);
    if (!check.ok) return this.#refuse(check.status, check.message, check.headers);
    this.#state = 'deciding';
    this.#key = check.key;
    this.#protocols = check.protocols;
    this.#extensions = check.extensions;
    return {
      type: 'request',
      protocols: check.protocols,
      extensions: check.extensions,
      rest: new Uint8Array(0),
    };
  }

  /**
   * Accepts the request: queues the 101 answer with `protocol` (which must be one the client
   * offered; false or absent for none) and the extensions agreed on. Throws a TypeError for a
   * subprotocol the client did not offer (RFC 6455 section 4.2.2: the server selects one of them).
   */
  accept(
    options: { protocol?: string | false; headers?: Readonly<Record<string, string>> } = {},
  ): ServerAcceptance {
    this.#expect('deciding');
    const protocol = options.protocol || '';
    if (protocol !== '' && !this.#protocols.includes(protocol)) {
      throw new TypeError(`subprotocol "${protocol}" was not offered by the client`);
    }
    const deflateOptions = this.#options.perMessageDeflate;
    const deflate = deflateOptions ? acceptDeflateOffer(this.#extensions, deflateOptions) : null;
    this.#output += buildAcceptResponse(this.#key, this.#options.platform, {
      ...(protocol ? { protocol } : {}),
      ...(deflate ? { extensions: deflate.response } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    });
    this.#state = 'accepted';
    return { protocol, extensions: deflate?.response ?? '', deflate: deflate?.agreement ?? null };
  }

  /**
   * Refuses the request with an HTTP error (`body` as plain text); the answer is queued and the
   * connection should be closed once it is written. Throws a TypeError for an invalid header.
   */
  reject(status: number, body: string, headers?: Readonly<Record<string, string>>): void {
    if (this.#state !== 'request') this.#expect('deciding');
    this.#output += buildRejectResponse(status, body, headers);
    this.#state = 'rejected';
  }

  #refuse(status: number, message: string, headers?: Record<string, string>): ServerHandshakeEvent {
    this.reject(status, message, headers);
    return { type: 'rejected', status, message };
  }

  #expect(state: ServerHandshakeState): void {
    if (this.#state !== state) {
      throw new Error(`the handshake is in state "${this.#state}", not "${state}"`);
    }
  }
}
