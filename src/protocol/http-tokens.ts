/**
 * HTTP token and list helpers for the handshake, written as plain scans: no regular expression
 * runs over a header value, so no crafted value can make matching backtrack.
 */

/** RFC 9110 section 5.6.2 `tchar`. */
function isTokenChar(c: number): boolean {
  if (c >= 0x30 && c <= 0x39) return true; // 0-9
  if (c >= 0x41 && c <= 0x5a) return true; // A-Z
  if (c >= 0x61 && c <= 0x7a) return true; // a-z
  switch (c) {
    case 0x21: // !
    case 0x23: // #
    case 0x24: // $
    case 0x25: // %
    case 0x26: // &
    case 0x27: // '
    case 0x2a: // *
    case 0x2b: // +
    case 0x2d: // -
    case 0x2e: // .
    case 0x5e: // ^
    case 0x5f: // _
    case 0x60: // `
    case 0x7c: // |
    case 0x7e: // ~
      return true;
    default:
      return false;
  }
}

/** Whether `text` is a non-empty HTTP token (RFC 9110 section 5.6.2). */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isTokenChar(text.charCodeAt(i))) return false;
  return true;
}

/** Whether `text` may be sent as a header value: no CR, LF or NUL, nothing above 0xFF. */
export function isValidHeaderValue(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0x00 || c > 0xff) return false;
  }
  return true;
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Splits a comma-separated header list, trimming optional whitespace and dropping empty items. */
export function splitList(value: string): string[] {
  const items: string[] = [];
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i === value.length || value.charCodeAt(i) === 0x2c) {
      let a = start;
      let b = i;
      while (a < b && isOws(value.charCodeAt(a))) a++;
      while (b > a && isOws(value.charCodeAt(b - 1))) b--;
      if (b > a) items.push(value.slice(a, b));
      start = i + 1;
    }
  }
  return items;
}

/** Whether a comma-separated header list contains `token`, compared case-insensitively. */
export function listHasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const wanted = token.toLowerCase();
  for (const item of splitList(value)) if (item.toLowerCase() === wanted) return true;
  return false;
}

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
