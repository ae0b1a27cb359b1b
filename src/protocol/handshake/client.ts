/**
 * The client side of the opening handshake as a sans-I/O state machine (RFC 6455 section 4.1):
 * it builds the request to write, reads the server's answer from whatever bytes arrive, and says
 * what happened. The transport only connects, writes, feeds bytes and runs the timeout.
 */
import { ConnectionError, HandshakeError, type WebSocketError } from '../../errors.js';
import { bodyFraming, HttpBodyReader } from '../http-body-reader.js';
import { type HeadLimits, HttpHeadParser, type HttpResponseHead } from '../http-head-parser.js';
import type { Platform } from '../platform.js';
import { generateKey } from './keys.js';
import { buildClientRequest, type ClientRequestOptions } from './request.js';
import { type ExpectedResponse, validateServerResponse } from './response.js';

/** Answers that point elsewhere (RFC 9110 section 15.4), followed when the client asks to. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** How much of a refusal's body is kept for the error: its start says why. */
export const MAX_REFUSAL_BODY_BYTES = 1024;

const utf8 = new TextDecoder();

/** Settings of one {@link ClientHandshake}. */
export interface ClientHandshakeOptions extends Omit<ClientRequestOptions, 'key'>, HeadLimits {
  platform: Platform;
  /** The `Sec-WebSocket-Key` to send; a fresh random one by default. */
  key?: string;
  /** See {@link ExpectedResponse.acceptExtensions}. */
  acceptExtensions?: ExpectedResponse['acceptExtensions'];
  /** Report 301/302/303/307/308 answers as `redirect` instead of refusing (default false). */
  followRedirects?: boolean;
  /** Names the server in refusal and close messages, such as `example.org:443`. */
  peer?: string;
}

/** What the server's answer amounted to. */
export type ClientHandshakeEvent =
  /** A valid 101: the connection is open; `rest` is the WebSocket data that came with it. */
  | {
      type: 'open';
      response: HttpResponseHead;
      protocol: string;
      extensions: string;
      rest: Uint8Array;
    }
  /** A redirect to follow (only with `followRedirects`); the connection is of no further use. */
  | { type: 'redirect'; response: HttpResponseHead }
  /**
   * The handshake failed: a {@link HandshakeError} for a refusal (with status, headers and body)
   * or an invalid answer, a {@link ConnectionError} when the server closed first.
   */
  | { type: 'failed'; error: WebSocketError };

/** The `failed` event of {@link ClientHandshakeEvent}. */
export type ClientHandshakeFailure = Extract<ClientHandshakeEvent, { type: 'failed' }>;

/** Where a {@link ClientHandshake} is: reading the head, reading a refusal's body, or done. */
export type ClientHandshakeState = 'head' | 'body' | 'done';

/**
 * One opening handshake from the client's side. Write {@link dataToSend} once connected, feed
 * every byte received to {@link receiveData} until it returns an event, and call
 * {@link receiveEof} if the connection ends (or is given up) first.
 */
export class ClientHandshake {
  /** The `Sec-WebSocket-Key` of the request. */
  readonly key: string;
  #request: string;
  readonly #options: ClientHandshakeOptions;
  readonly #parser: HttpHeadParser;
  #state: ClientHandshakeState = 'head';
  #refusal: { head: HttpResponseHead; body: HttpBodyReader } | null = null;

  /** Builds the request; throws a TypeError for an invalid header name or value. */
  constructor(options: ClientHandshakeOptions) {
    this.#options = options;
    this.key = options.key ?? generateKey(options.platform);
    this.#request = buildClientRequest({
      host: options.host,
      path: options.path,
      key: this.key,
      ...(options.protocols ? { protocols: options.protocols } : {}),
      ...(options.extensions ? { extensions: options.extensions } : {}),
      ...(options.origin !== undefined ? { origin: options.origin } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    });
    this.#parser = new HttpHeadParser({
      ...(options.maxHeaderBytes !== undefined ? { maxHeaderBytes: options.maxHeaderBytes } : {}),
      ...(options.maxHeaders !== undefined ? { maxHeaders: options.maxHeaders } : {}),
    });
  }

  /** Where the handshake is. */
  get state(): ClientHandshakeState {
    return this.#state;
  }

  /** The request to write, the first time it is called; then the empty string. */
  dataToSend(): string {
    const request = this.#request;
    this.#request = '';
    return request;
  }

  /** Feeds bytes from the server; returns an event once the answer is complete, else null. */
  receiveData(chunk: Uint8Array): ClientHandshakeEvent | null {
    if (this.#state === 'done') throw new Error('the handshake is over: stop feeding it bytes');
    if (this.#state === 'body') return this.#readBody(chunk);
    let data = chunk;
    for (;;) {
      let parsed: ReturnType<HttpHeadParser['push']>;
      try {
        parsed = this.#parser.push(data);
      } catch (error) {
        return this.#done({ type: 'failed', error: error as HandshakeError });
      }
      if (!parsed) return null;
      const { head, rest } = parsed;
      // RFC 9110 section 15.2: a client must accept interim 1xx answers before the final one.
      if (head.status >= 100 && head.status < 200 && head.status !== 101) {
        data = rest;
        continue;
      }
      return this.#answer(head, rest);
    }
  }

  /**
   * The connection ended, or the transport stopped reading (timeout, error). Returns the refusal
   * when its body was being read (it is complete when the close delimits it), else a failure.
   */
  receiveEof(): ClientHandshakeFailure {
    if (this.#state === 'body') return this.#refused();
    this.#state = 'done';
    return {
      type: 'failed',
      error: new ConnectionError(
        'ERR_WS_CONNECTION_CLOSED',
        `${this.#peer()}the server closed the connection during the opening handshake`,
      ),
    };
  }

  #answer(head: HttpResponseHead, rest: Uint8Array): ClientHandshakeEvent | null {
    const options = this.#options;
    if (options.followRedirects && REDIRECT_STATUSES.has(head.status)) {
      return this.#done({ type: 'redirect', response: head });
    }
    if (head.status !== 101) {
      this.#state = 'body';
      this.#refusal = {
        head,
        body: new HttpBodyReader(bodyFraming(head.status, head.headers), MAX_REFUSAL_BODY_BYTES),
      };
      return this.#readBody(rest);
    }
    try {
      const agreed = validateServerResponse(
        head,
        {
          key: this.key,
          protocols: options.protocols ?? [],
          ...(options.acceptExtensions ? { acceptExtensions: options.acceptExtensions } : {}),
        },
        options.platform,
      );
      return this.#done({ type: 'open', response: head, ...agreed, rest });
    } catch (error) {
      return this.#done({ type: 'failed', error: error as WebSocketError });
    }
  }

  #readBody(chunk: Uint8Array): ClientHandshakeEvent | null {
    return this.#refusal!.body.push(chunk) ? this.#refused() : null;
  }

  #refused(): ClientHandshakeFailure {
    const { head, body } = this.#refusal!;
    this.#refusal = null;
    // Not the platform's decode: a refusal's body need not be valid UTF-8.
    const text = utf8.decode(body.body());
    const message =
      `${this.#peer()}the server refused the WebSocket upgrade with HTTP ${head.status} ${head.statusText}`.trimEnd() +
      (text.trim() ? `: ${text.trim()}` : '');
    return this.#done({
      type: 'failed',
      error: new HandshakeError(message, {
        status: head.status,
        headers: head.headers,
        body: text,
      }),
    });
  }

  #done<E extends ClientHandshakeEvent>(event: E): E {
    this.#state = 'done';
    return event;
  }

  #peer(): string {
    return this.#options.peer ? `${this.#options.peer}: ` : '';
  }
}
