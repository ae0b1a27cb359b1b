/** RFC 6455 section 4: Sec-WebSocket-Key and Sec-WebSocket-Accept (handshake/keys.ts). */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  computeAccept,
  generateKey,
  isValidKey,
  sha1Base64Portable,
  WEBSOCKET_GUID,
} from '../../../src/protocol/index.js';
import { platforms } from '../helpers.js';

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

describe('4.2.2 Sec-WebSocket-Accept', () => {
  for (const [name, platform] of platforms) {
    it(`computeAccept gives the RFC example answer (${name} sha1)`, () => {
      assert.equal(computeAccept(RFC_KEY, platform), RFC_ACCEPT);
    });
  }

  it('uses the RFC GUID', () => {
    assert.equal(WEBSOCKET_GUID, '258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
  });

  it('the portable SHA-1 matches node:crypto for inputs of every length around block edges', () => {
    for (let n = 0; n <= 200; n++) {
      const text = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(6).slice(0, n);
      assert.equal(
        sha1Base64Portable(text),
        createHash('sha1').update(text).digest('base64'),
        `length ${n}`,
      );
    }
    assert.equal(sha1Base64Portable(''), '2jmj7l5rSw0yVb/vlWAYkK/YBwk=');
    assert.equal(sha1Base64Portable('abc'), 'qZk+NkcGgWq6PiVxeFDCbJzQ2J0=');
  });

  it('the portable SHA-1 matches node:crypto on random Latin-1 strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 300 }), (text) => {
        const expected = createHash('sha1').update(Buffer.from(text, 'latin1')).digest('base64');
        assert.equal(sha1Base64Portable(text), expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe('4.1 Sec-WebSocket-Key', () => {
  for (const [name, platform] of platforms) {
    it(`generateKey gives 24 base64 characters of 16 random bytes, new each call (${name})`, () => {
      const keys = new Set<string>();
      for (let i = 0; i < 50; i++) {
        const key = generateKey(platform);
        assert.equal(key.length, 24);
        assert.match(key, /^[A-Za-z0-9+/]{22}==$/);
        assert.equal(Buffer.from(key, 'base64').length, 16);
        assert.equal(isValidKey(key), true);
        keys.add(key);
      }
      assert.equal(keys.size, 50);
    });
  }

  it('isValidKey accepts only base64 of exactly 16 bytes', () => {
    assert.equal(isValidKey(RFC_KEY), true);
    assert.equal(isValidKey(Buffer.alloc(16).toString('base64')), true);
    assert.equal(isValidKey(Buffer.alloc(16, 0xff).toString('base64')), true);
    const bad = [
      '',
      Buffer.alloc(15).toString('base64'), // 20 chars
      Buffer.alloc(17).toString('base64'), // 24 chars, one '='
      Buffer.alloc(18).toString('base64'), // 24 chars, no '='
      'dGhlIHNhbXBsZSBub25jZQ', // no padding
      'dGhlIHNhbXBsZSBub25jZQ===',
      'dGhlIHNhbXBsZSBub25jZQ=a',
      'dGhlIHNhbXBsZSBub25jZ*==', // not base64
      'dGhlIHNhbXBsZSBub25j ZQ=',
      'dGhlIHNhbXBsZSBub25jZR==', // non-zero bits after the 16th byte
      'dGhlIHNhbXBsZSBub25jZ-==', // base64url
    ];
    for (const key of bad) assert.equal(isValidKey(key), false, JSON.stringify(key));
  });
});
