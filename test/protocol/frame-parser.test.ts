/**
 * The frame parser on its own (what `wskit/protocol` exports as `FrameParser`): frames in, calls
 * to a FrameSink out, as RFC 6455 section 5 reads them. The engine runs the same reader; these
 * tests check the standalone form's own surface.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { nodePlatform } from '../../src/node/node-platform.js';
import { FrameParser, type FrameSink, isControlOpcode } from '../../src/protocol/index.js';
import { frame } from '../support/frames.js';
import { Op } from './helpers.js';

type Call =
  | ['message', number, boolean, string, boolean]
  | ['data', string, number, boolean]
  | ['control', number, string]
  | ['error', number, string];

class CallSink implements FrameSink {
  readonly calls: Call[] = [];
  onMessage(opcode: number, compressed: boolean, payload: Uint8Array, streamed: boolean): void {
    this.calls.push(['message', opcode, compressed, Buffer.from(payload).toString(), streamed]);
  }
  onMessageData(bytes: Uint8Array, opcode: number, compressed: boolean): void {
    this.calls.push(['data', Buffer.from(bytes).toString(), opcode, compressed]);
  }
  onControl(opcode: number, payload: Uint8Array): void {
    this.calls.push(['control', opcode, Buffer.from(payload).toString()]);
  }
  onFrameError(closeCode: number, message: string): void {
    this.calls.push(['error', closeCode, message]);
  }
}

function parser(expectMasked: boolean, maxPayload = 0): { parser: FrameParser; sink: CallSink } {
  const sink = new CallSink();
  return {
    parser: new FrameParser({ expectMasked, maxPayload, platform: nodePlatform }, sink),
    sink,
  };
}

describe('FrameParser', () => {
  it('hands a whole frame on in place, and a cut one piece by piece, unmasked', () => {
    const { parser: p, sink } = parser(true);
    p.push(frame({ opcode: Op.Text, payload: 'whole', mask: true }));
    const cut = frame({ opcode: Op.Binary, payload: 'in two pieces', mask: true });
    p.push(cut.subarray(0, 10));
    assert.equal(p.bufferedBytes, 4, 'the payload bytes that arrived are held');
    p.push(cut.subarray(10));
    p.push(frame({ opcode: Op.Ping, payload: 'p', mask: true }));
    assert.deepEqual(sink.calls, [
      ['message', Op.Text, false, 'whole', false],
      ['data', 'in t', Op.Binary, false],
      ['data', 'wo pieces', Op.Binary, false],
      ['message', Op.Binary, false, 'in two pieces', true],
      ['control', Op.Ping, 'p'],
    ]);
    assert.equal(p.bufferedBytes, 0);
  });

  it('counts an incomplete head as held bytes', () => {
    const { parser: p } = parser(false);
    p.push(Uint8Array.of(0x81));
    assert.equal(p.bufferedBytes, 1);
  });

  it('refuses RSV1 until an extension allows it', () => {
    const refused = parser(false);
    assert.equal(refused.parser.rsv1Allowed, false);
    refused.parser.push(frame({ opcode: Op.Text, payload: 'x', rsv1: true }));
    assert.deepEqual(refused.sink.calls, [
      ['error', 1002, 'RSV1 is set but no extension was negotiated'],
    ]);
    assert.equal(refused.parser.isStopped, true, 'a frame error stops the parser');

    const allowed = parser(false);
    allowed.parser.rsv1Allowed = true;
    assert.equal(allowed.parser.rsv1Allowed, true);
    allowed.parser.push(frame({ opcode: Op.Text, payload: 'x', rsv1: true }));
    assert.deepEqual(allowed.sink.calls, [['message', Op.Text, true, 'x', false]]);
    allowed.parser.rsv1Allowed = false;
    assert.equal(allowed.parser.rsv1Allowed, false);
  });

  it('ignores everything after stop(), and drops what it held', () => {
    const { parser: p, sink } = parser(false);
    p.push(frame({ opcode: Op.Text, payload: 'abc' }).subarray(0, 3));
    assert.equal(p.isStopped, false);
    p.stop();
    assert.equal(p.isStopped, true);
    assert.equal(p.bufferedBytes, 0);
    p.push(frame({ opcode: Op.Text, payload: 'later' }));
    assert.deepEqual(sink.calls, [['data', 'a', Op.Text, false]]);
  });

  it('refuses a message over maxPayload before taking its payload', () => {
    const { parser: p, sink } = parser(false, 4);
    p.push(frame({ opcode: Op.Binary, payload: 'too long' }));
    assert.deepEqual(sink.calls, [
      ['error', 1009, 'message of at least 8 bytes exceeds maxPayload of 4 bytes'],
    ]);
  });
});

describe('isControlOpcode (RFC 6455 section 5.5)', () => {
  it('is true exactly for opcodes with the high bit set', () => {
    for (let opcode = 0; opcode < 16; opcode++) assert.equal(isControlOpcode(opcode), opcode >= 8);
  });
});
