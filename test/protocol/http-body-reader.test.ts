/** RFC 9112 section 6.3 and 7.1: how a refusal's body is delimited and de-chunked. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bodyFraming, HttpBodyReader } from '../../src/protocol/index.js';

const text = (reader: HttpBodyReader) => Buffer.from(reader.body()).toString('latin1');

describe('bodyFraming', () => {
  it('follows the order of RFC 9112 section 6.3', () => {
    assert.deepEqual(bodyFraming(100, { 'content-length': '5' }), { kind: 'none' });
    assert.deepEqual(bodyFraming(204, { 'content-length': '5' }), { kind: 'none' });
    assert.deepEqual(bodyFraming(304, {}), { kind: 'none' });
    assert.deepEqual(
      bodyFraming(403, { 'transfer-encoding': 'gzip, Chunked', 'content-length': '5' }),
      { kind: 'chunked' },
    );
    assert.deepEqual(bodyFraming(403, { 'transfer-encoding': 'chunked, gzip' }), { kind: 'close' });
    assert.deepEqual(bodyFraming(403, { 'content-length': '12' }), { kind: 'length', length: 12 });
    assert.deepEqual(bodyFraming(403, { 'content-length': '12, 12' }), {
      kind: 'length',
      length: 12,
    });
    for (const bad of ['12, 13', '-1', '1e3', '', '9999999999999999']) {
      assert.deepEqual(bodyFraming(403, { 'content-length': bad }), { kind: 'close' }, bad);
    }
    assert.deepEqual(bodyFraming(403, {}), { kind: 'close' });
  });
});

describe('HttpBodyReader', () => {
  it('de-chunks with extensions and trailers, byte by byte', () => {
    const wire = Buffer.from('a;x="1"\r\n0123456789\r\n1\r\n!\r\n0\r\nA: b\r\nC: d\r\n\r\nEXTRA');
    const reader = new HttpBodyReader({ kind: 'chunked' }, 1024);
    let doneAt = -1;
    for (let i = 0; i < wire.length && doneAt < 0; i++) {
      if (reader.push(wire.subarray(i, i + 1))) doneAt = i;
    }
    assert.equal(text(reader), '0123456789!');
    assert.equal(doneAt, wire.indexOf('EXTRA') - 1, 'done at the blank line after the trailers');
  });

  it('stops at broken chunk framing and keeps what was decoded', () => {
    const reader = new HttpBodyReader({ kind: 'chunked' }, 1024);
    assert.equal(reader.push(Buffer.from('3\r\nabcXYZ')), true);
    assert.equal(text(reader), 'abc');
    const notHex = new HttpBodyReader({ kind: 'chunked' }, 1024);
    assert.equal(notHex.push(Buffer.from('zz\r\n')), true);
    assert.equal(text(notHex), '');
    // A CR after the size must be followed by LF; a CR after the data too.
    const crAfterSize = new HttpBodyReader({ kind: 'chunked' }, 1024);
    assert.equal(crAfterSize.push(Buffer.from('3\rX')), true);
    assert.equal(text(crAfterSize), '');
    const crAfterData = new HttpBodyReader({ kind: 'chunked' }, 1024);
    assert.equal(crAfterData.push(Buffer.from('3\r\nabc\rX4\r\nwxyz\r\n')), true);
    assert.equal(text(crAfterData), 'abc');
  });

  it('accepts a bare LF as the end of a size line and of a chunk (RFC 9112 section 2.2)', () => {
    const reader = new HttpBodyReader({ kind: 'chunked' }, 1024);
    assert.equal(reader.push(Buffer.from('3\nabc\n2\r\nde\r\n0\n')), false);
    assert.equal(reader.push(Buffer.from('\n')), true);
    assert.equal(text(reader), 'abcde');
  });

  it('keeps at most maxBytes and is done once it has them', () => {
    const reader = new HttpBodyReader({ kind: 'close' }, 4);
    assert.equal(reader.push(Buffer.from('ab')), false);
    assert.equal(reader.push(Buffer.from('cdef')), true);
    assert.equal(text(reader), 'abcd');
    const empty = new HttpBodyReader({ kind: 'length', length: 0 }, 4);
    assert.equal(empty.done, true);
  });
});
