/**
 * The `Sec-WebSocket-Extensions` grammar (RFC 6455 section 9.1), parsed and formatted with plain
 * scans like the other header helpers.
 */
import { isOws, isToken, isTokenChar } from '../http-tokens.js';

/** One extension offer or answer of `Sec-WebSocket-Extensions` (RFC 6455 section 9.1). */
export interface ExtensionOffer {
  name: string;
  /** Parameters in order; a parameter without a value maps to `true`. */
  params: Array<[string, string | true]>;
}

/**
 * Parses `Sec-WebSocket-Extensions` (RFC 6455 section 9.1): `name; param; param=value, ...`,
 * where a value is a token or a quoted string. Returns null when the header is malformed.
 */
export function parseExtensions(value: string): ExtensionOffer[] | null {
  const offers: ExtensionOffer[] = [];
  let i = 0;
  const n = value.length;
  const skipOws = () => {
    while (i < n && isOws(value.charCodeAt(i))) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && isTokenChar(value.charCodeAt(i))) i++;
    return value.slice(start, i);
  };
  for (;;) {
    skipOws();
    if (i === n) return offers.length > 0 ? offers : null;
    if (value.charCodeAt(i) === 0x2c) {
      i++;
      continue;
    }
    const name = readToken();
    if (name === '') return null;
    const offer: ExtensionOffer = { name, params: [] };
    skipOws();
    while (i < n && value.charCodeAt(i) === 0x3b) {
      i++;
      skipOws();
      const key = readToken();
      if (key === '') return null;
      skipOws();
      let paramValue: string | true = true;
      if (i < n && value.charCodeAt(i) === 0x3d) {
        i++;
        skipOws();
        if (i < n && value.charCodeAt(i) === 0x22) {
          i++;
          let text = '';
          while (i < n && value.charCodeAt(i) !== 0x22) {
            if (value.charCodeAt(i) === 0x5c) i++;
            if (i < n) text += value[i];
            i++;
          }
          if (i >= n) return null;
          i++;
          // RFC 6455 section 9.1: a quoted value must still be a token once unquoted.
          if (!isToken(text)) return null;
          paramValue = text;
        } else {
          paramValue = readToken();
          if (paramValue === '') return null;
        }
        skipOws();
      }
      offer.params.push([key.toLowerCase(), paramValue]);
    }
    offers.push(offer);
    skipOws();
    if (i === n) return offers;
    if (value.charCodeAt(i) !== 0x2c) return null;
    i++;
  }
}

/** Formats extension offers back into a header value. */
export function formatExtensions(offers: readonly ExtensionOffer[]): string {
  return offers
    .map((o) => [o.name, ...o.params.map(([k, v]) => (v === true ? k : `${k}=${v}`))].join('; '))
    .join(', ');
}
