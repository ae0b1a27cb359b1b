/**
 * Parsing is linear in every header the engine reads (DESIGN: "Parsing is linear in its input
 * everywhere"): each parser is given a 15 KB and a 150 KB input of the same shape, and the work
 * it does (counted, not timed: see test/support/work-counter.ts) must grow about ten times, not
 * a hundred. A hostile peer chooses these inputs, so each is the worst shape for its parser.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodePlatform } from '../../src/node/node-platform.js';
import {
  ClientHandshake,
  computeAccept,
  HttpBodyReader,
  HttpHeadParser,
  parseExtensions,
  ServerHandshake,
} from '../../src/protocol/index.js';
import { countWork } from '../support/work-counter.js';

const SMALL = 15_000;
const LARGE = 150_000;
/** Linear work grows 10 times from SMALL to LARGE, quadratic 100 times; allow constant overheads. */
const MAX_GROWTH = 15;
const LIMITS = { maxHeaderBytes: 1 << 20, maxHeaders: 1 << 20 };
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A comma-separated list of distinct items `make(i)` about `bytes` long. */
function list(bytes: number, make: (i: number) => string): string {
  const items: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const item = make(i);
    items.push(item);
    length += item.length + 2;
  }
  return items.join(', ');
}

function upgradeRequest(extra: string): string {
  return (
    'GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}

function response(extra: string): string {
  return (
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${computeAccept(KEY, nodePlatform)}\r\n${extra}\r\n`
  );
}

/** Byte-by-byte pieces: the worst split for a parser that re-joins or re-scans what it holds. */
function bytewise(text: string): Uint8Array[] {
  const data = Buffer.from(text, 'latin1');
  return Array.from(data, (_, i) => data.subarray(i, i + 1));
}

function assertLinear(name: string, run: (bytes: number) => void): void {
  run(SMALL); // Warm up: first calls may take other paths than later ones.
  const small = countWork(() => run(SMALL));
  const large = countWork(() => run(LARGE));
  const growth = large / small;
  assert.ok(small > SMALL / 10, `${name}: the counter saw the work (${small})`);
  assert.ok(
    growth < MAX_GROWTH,
    `${name}: work grew ${growth.toFixed(1)}x for 10x the input (${small} -> ${large})`,
  );
}

describe('header parsing is linear in its input', () => {
  it('Sec-WebSocket-Protocol of many distinct tokens, on the server', () => {
    assertLinear('subprotocols', (bytes) => {
      const header = list(bytes, (i) => `p${i}`);
      const event = new ServerHandshake({ platform: nodePlatform, ...LIMITS }).receiveRequest({
        method: 'GET',
        httpVersion: '1.1',
        headers: {
          host: 'h',
          upgrade: 'websocket',
          connection: 'Upgrade',
          'sec-websocket-key': KEY,
          'sec-websocket-version': '13',
          'sec-websocket-protocol': header,
        },
      });
      assert.equal(event.type, 'request');
    });
  });

  it('the same request as bytes, fed one byte at a time', () => {
    assertLinear('request head', (bytes) => {
      const s = new ServerHandshake({ platform: nodePlatform, ...LIMITS });
      let type = '';
      const header = list(bytes, (i) => `p${i}`);
      for (const piece of bytewise(upgradeRequest(`Sec-WebSocket-Protocol: ${header}\r\n`))) {
        type = s.receiveData(piece)?.type ?? type;
      }
      assert.equal(type, 'request');
    });
  });

  it('many header lines and a long Connection token list, on the server', () => {
    assertLinear('header lines', (bytes) => {
      const lines = list(bytes / 2, (i) => `X-${i}: v`).replaceAll(', ', '\r\n');
      const connection = list(bytes / 2, (i) => `t${i}`);
      const s = new ServerHandshake({ platform: nodePlatform, ...LIMITS });
      const text = upgradeRequest(`${lines}\r\n`).replace(
        'Connection: Upgrade',
        `Connection: ${connection}, Upgrade`,
      );
      assert.equal(s.receiveData(Buffer.from(text, 'latin1'))?.type, 'request');
    });
  });

  it('Sec-WebSocket-Extensions of many offers, on the server', () => {
    assertLinear('extension offers', (bytes) => {
      const header = list(
        bytes,
        (i) => `permessage-deflate; x${i}; client_max_window_bits="${(i % 7) + 9}"`,
      );
      const s = new ServerHandshake({ platform: nodePlatform, perMessageDeflate: {}, ...LIMITS });
      s.receiveRequest({
        method: 'GET',
        httpVersion: '1.1',
        headers: {
          host: 'h',
          upgrade: 'websocket',
          connection: 'Upgrade',
          'sec-websocket-key': KEY,
          'sec-websocket-version': '13',
          'sec-websocket-extensions': header,
        },
      });
      assert.equal(s.accept().deflate, null);
    });
    assertLinear('extension parameters', (bytes) => {
      const params = list(bytes, (i) => `p${i}="${i}"`).replaceAll(', ', '; ');
      assert.equal(parseExtensions(`e; ${params}`)?.[0]?.params.length !== 0, true);
    });
  });

  it('a response head of many headers, fed one byte at a time, on the client', () => {
    assertLinear('response head', (bytes) => {
      const lines = list(bytes, (i) => `X-Same: ${i}`).replaceAll(', ', '\r\n');
      const parser = new HttpHeadParser(LIMITS);
      let done = false;
      for (const piece of bytewise(response(`${lines}\r\n`)))
        done = parser.push(piece) !== null || done;
      assert.ok(done);
    });
  });

  it('Sec-WebSocket-Protocol and -Extensions answers, on the client', () => {
    assertLinear('client answer', (bytes) => {
      const c = new ClientHandshake({
        platform: nodePlatform,
        host: 'h',
        path: '/',
        key: KEY,
        protocols: ['chat'],
        acceptExtensions: (header) => String(parseExtensions(header)?.length),
        ...LIMITS,
      });
      const protocol = list(bytes / 2, (i) => `p${i}`);
      const extensions = list(bytes / 2, (i) => `e${i}; a=${i}`);
      const event = c.receiveData(
        Buffer.from(
          response(
            `Sec-WebSocket-Protocol: ${protocol}\r\nSec-WebSocket-Extensions: ${extensions}\r\n`,
          ),
          'latin1',
        ),
      );
      assert.equal(event?.type, 'failed');
    });
  });

  it('a chunked refusal body of one-byte chunks', () => {
    assertLinear('chunked body', (bytes) => {
      const reader = new HttpBodyReader({ kind: 'chunked' }, 1 << 20);
      const wire = `${'1\r\nx\r\n'.repeat(bytes / 6)}0\r\n\r\n`;
      assert.equal(reader.push(Buffer.from(wire, 'latin1')), true);
    });
  });
});
