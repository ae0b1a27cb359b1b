/**
 * HTTP token and list helpers for the handshake, written as plain scans: no regular expression
 * runs over a header value, so no crafted value can make matching backtrack.
 */

/** Whether `c` is an RFC 9110 section 5.6.2 `tchar`. */
export function isTokenChar(c: number): boolean {
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

/** Whether `c` is optional white space (RFC 9110 section 5.6.3): space or horizontal tab. */
export function isOws(c: number): boolean {
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
