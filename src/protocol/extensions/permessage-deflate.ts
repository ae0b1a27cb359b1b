import { HandshakeError } from '../../errors.js';
import { type ExtensionOffer, formatExtensions, parseExtensions } from './extension-header.js';

/** The extension token of RFC 7692. */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** Settings both ends agreed on for one connection (RFC 7692 section 7.1). */
export interface DeflateAgreement {
  /** The server resets its compression context after each message. */
  serverNoContextTakeover: boolean;
  /** The client resets its compression context after each message. */
  clientNoContextTakeover: boolean;
  /** LZ77 window of the server's compressor (8-15). */
  serverMaxWindowBits: number;
  /** LZ77 window of the client's compressor (8-15). */
  clientMaxWindowBits: number;
}

/** What one side is willing to do; every field is optional. */
export interface DeflateNegotiationOptions {
  /** Ask (client) or require (server) that the server resets its context per message. */
  serverNoContextTakeover?: boolean;
  /** Ask (client) or require (server) that the client resets its context per message. */
  clientNoContextTakeover?: boolean;
  /** Window bits (9-15) for the server's compressor; a server answers with it, a client offers it. */
  serverMaxWindowBits?: number;
  /**
   * Window bits (9-15) for the client's compressor. A client may pass `true` to only say it
   * supports the parameter (RFC 7692 section 7.1.2.2); a server uses a number to limit it.
   */
  clientMaxWindowBits?: number | true;
}

/**
 * Window sizes zlib can honour for raw deflate: 9-15. zlib silently widens 8 to 9 for raw
 * streams, which would break a peer that inflates with a 256-byte window, so an agreement that
 * would make us compress with 8 is declined instead.
 */
const MIN_WINDOW_BITS = 9;
const MAX_WINDOW_BITS = 15;

function parseWindowBits(value: string | true, allowBare: boolean): number | true | null {
  if (value === true) return allowBare ? true : null;
  // RFC 7692 section 7.1.2: 1*DIGIT without leading zero, 8-15.
  if (value.length === 0 || value.length > 2 || value[0] === '0') return null;
  for (const c of value) if (c < '0' || c > '9') return null;
  const bits = Number(value);
  return bits >= 8 && bits <= 15 ? bits : null;
}

interface ParsedParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | true | undefined;
}

/** Validates one offer's or answer's parameters; null when any is unknown, repeated or invalid. */
function parseParams(offer: ExtensionOffer, isOffer: boolean): ParsedParams | null {
  const seen = new Set<string>();
  const out: ParsedParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  for (const [name, value] of offer.params) {
    // RFC 7692 section 7.1: a parameter must not appear more than once.
    if (seen.has(name)) return null;
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
        if (value !== true) return null;
        out.serverNoContextTakeover = true;
        break;
      case 'client_no_context_takeover':
        if (value !== true) return null;
        out.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits': {
        const bits = parseWindowBits(value, false);
        if (bits === null || bits === true) return null;
        out.serverMaxWindowBits = bits;
        break;
      }
      case 'client_max_window_bits': {
        // Only an offer may carry it without a value (RFC 7692 section 7.1.2.2).
        const bits = parseWindowBits(value, isOffer);
        if (bits === null) return null;
        out.clientMaxWindowBits = bits;
        break;
      }
      default:
        return null;
    }
  }
  return out;
}

/** The client's `Sec-WebSocket-Extensions` offer. */
export function buildDeflateOffer(options: DeflateNegotiationOptions): string {
  const params: Array<[string, string | true]> = [];
  if (options.serverNoContextTakeover) params.push(['server_no_context_takeover', true]);
  if (options.clientNoContextTakeover) params.push(['client_no_context_takeover', true]);
  if (options.serverMaxWindowBits !== undefined) {
    params.push(['server_max_window_bits', String(checkBits(options.serverMaxWindowBits))]);
  }
  const client = options.clientMaxWindowBits ?? true;
  params.push(['client_max_window_bits', client === true ? true : String(checkBits(client))]);
  return formatExtensions([{ name: PERMESSAGE_DEFLATE, params }]);
}

/** Throws a RangeError for settings that cannot be negotiated (window bits outside 9-15). */
export function checkDeflateNegotiationOptions(options: DeflateNegotiationOptions): void {
  if (options.serverMaxWindowBits !== undefined) checkBits(options.serverMaxWindowBits);
  if (options.clientMaxWindowBits !== undefined && options.clientMaxWindowBits !== true) {
    checkBits(options.clientMaxWindowBits);
  }
}

function checkBits(bits: number): number {
  if (!Number.isInteger(bits) || bits < MIN_WINDOW_BITS || bits > MAX_WINDOW_BITS) {
    throw new RangeError(
      `window bits must be an integer from ${MIN_WINDOW_BITS} to ${MAX_WINDOW_BITS}, got ${bits}`,
    );
  }
  return bits;
}

/**
 * Server side: picks the first acceptable permessage-deflate offer of the client's header
 * (RFC 7692 section 5.1) and returns the answer and the agreement, or null to decline them all.
 * Offers with unknown, repeated or invalid parameters are declined one by one.
 */
export function acceptDeflateOffer(
  header: string | undefined,
  options: DeflateNegotiationOptions,
): { response: string; agreement: DeflateAgreement } | null {
  if (header === undefined) return null;
  const offers = parseExtensions(header);
  if (offers === null) return null;
  for (const offer of offers) {
    if (offer.name.toLowerCase() !== PERMESSAGE_DEFLATE) continue;
    const p = parseParams(offer, true);
    if (p === null) continue;
    // Our compressor's window: what the client allows, capped by our own setting.
    let serverBits = Math.min(options.serverMaxWindowBits ?? MAX_WINDOW_BITS, MAX_WINDOW_BITS);
    if (p.serverMaxWindowBits !== undefined)
      serverBits = Math.min(serverBits, p.serverMaxWindowBits);
    if (serverBits < MIN_WINDOW_BITS) continue;
    // The client's compressor window: only limited if the client said it can be.
    let clientBits = MAX_WINDOW_BITS;
    const wantClientBits =
      typeof options.clientMaxWindowBits === 'number' ? options.clientMaxWindowBits : undefined;
    if (p.clientMaxWindowBits === undefined) {
      // RFC 7692 section 7.1.2.2: without the parameter in the offer we may not send it.
      if (wantClientBits !== undefined && wantClientBits < MAX_WINDOW_BITS) continue;
    } else {
      const offered = p.clientMaxWindowBits === true ? MAX_WINDOW_BITS : p.clientMaxWindowBits;
      clientBits = Math.min(offered, wantClientBits ?? MAX_WINDOW_BITS);
    }
    const agreement: DeflateAgreement = {
      serverNoContextTakeover:
        p.serverNoContextTakeover || options.serverNoContextTakeover === true,
      clientNoContextTakeover:
        p.clientNoContextTakeover || options.clientNoContextTakeover === true,
      serverMaxWindowBits: serverBits,
      clientMaxWindowBits: clientBits,
    };
    const params: Array<[string, string | true]> = [];
    if (agreement.serverNoContextTakeover) params.push(['server_no_context_takeover', true]);
    if (agreement.clientNoContextTakeover) params.push(['client_no_context_takeover', true]);
    if (p.serverMaxWindowBits !== undefined || serverBits < MAX_WINDOW_BITS) {
      params.push(['server_max_window_bits', String(serverBits)]);
    }
    if (
      p.clientMaxWindowBits !== undefined &&
      (p.clientMaxWindowBits !== true || clientBits < MAX_WINDOW_BITS)
    ) {
      params.push(['client_max_window_bits', String(clientBits)]);
    }
    return { response: formatExtensions([{ name: PERMESSAGE_DEFLATE, params }]), agreement };
  }
  return null;
}

/**
 * Client side: validates the server's answer against the offer (RFC 7692 section 5.2 and 7.1)
 * and returns the agreement. Throws a HandshakeError, which fails the connection, when the
 * answer is not acceptable.
 */
export function acceptDeflateResponse(
  header: string,
  offered: DeflateNegotiationOptions,
): DeflateAgreement {
  const fail = (why: string) =>
    new HandshakeError(`the server's Sec-WebSocket-Extensions answer is not acceptable: ${why}`);
  const answers = parseExtensions(header);
  if (answers === null) throw fail(`malformed header "${header}"`);
  if (answers.length !== 1 || answers[0]!.name.toLowerCase() !== PERMESSAGE_DEFLATE) {
    throw fail(`"${header}" was not offered`);
  }
  const p = parseParams(answers[0]!, false);
  if (p === null) throw fail(`invalid, unknown or repeated parameter in "${header}"`);
  if (offered.serverNoContextTakeover && !p.serverNoContextTakeover) {
    throw fail('server_no_context_takeover was requested but not confirmed');
  }
  const offeredServerBits = offered.serverMaxWindowBits;
  if (
    offeredServerBits !== undefined &&
    (p.serverMaxWindowBits === undefined || p.serverMaxWindowBits > offeredServerBits)
  ) {
    throw fail(`server_max_window_bits must be at most ${offeredServerBits}`);
  }
  const clientBits =
    typeof p.clientMaxWindowBits === 'number' ? p.clientMaxWindowBits : MAX_WINDOW_BITS;
  if (clientBits < MIN_WINDOW_BITS) throw fail('client_max_window_bits=8 is not supported');
  if (typeof offered.clientMaxWindowBits === 'number' && clientBits > offered.clientMaxWindowBits) {
    throw fail(`client_max_window_bits must be at most ${offered.clientMaxWindowBits}`);
  }
  return {
    serverNoContextTakeover: p.serverNoContextTakeover,
    clientNoContextTakeover: p.clientNoContextTakeover || offered.clientNoContextTakeover === true,
    serverMaxWindowBits: p.serverMaxWindowBits ?? MAX_WINDOW_BITS,
    clientMaxWindowBits: clientBits,
  };
}
