/** The head of a server's answer to one opening handshake, read with Node's own HTTP client. */
import { randomBytes } from 'node:crypto';
import { type IncomingHttpHeaders, request } from 'node:http';
import { WAIT_MS } from './timeouts.js';

/** Status and headers of the answer to a WebSocket upgrade (or plain GET) of `url`. */
export function upgradeResponse(
  url: string,
  { upgrade = true }: { upgrade?: boolean } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  const headers: Record<string, string> = upgrade
    ? {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Version': '13',
      }
    : {};
  return new Promise((resolve, reject) => {
    const req = request(url.replace(/^ws/, 'http'), { headers, timeout: WAIT_MS });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in ${WAIT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}
