/** The option reader over `util.parseArgs`, the binary text encodings, and the colours. */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { type OptionSpec, readOptions, UsageError } from '../../src/cli/args.js';
import { decodeBinary, encodeBinary, parseBase64 } from '../../src/cli/binary-text.js';
import { createStyle } from '../../src/cli/style.js';

const SPECS: readonly OptionSpec[] = [
  { name: 'header', short: 'H', kind: 'list', value: '<h>', help: '' },
  { name: 'wait', kind: 'value', value: '<s>', help: '' },
  { name: 'json', kind: 'flag', help: '' },
  { name: 'protocol', kind: 'list', help: '' },
];

function usage(argv: string[]): string {
  try {
    readOptions(argv, SPECS, 'connect');
  } catch (error) {
    assert.ok(error instanceof UsageError);
    return error.message;
  }
  assert.fail(`no usage error for ${argv.join(' ')}`);
}

describe('readOptions', () => {
  it('reads long, short, inline, repeated options and positionals', () => {
    const args = readOptions(
      [
        'ws://a/',
        '-H',
        'A: 1',
        '-HB: 2',
        '-H=C: 3',
        '--header=D: 4',
        '--wait',
        '-1',
        '--json',
        '--',
        '--x',
      ],
      SPECS,
      'connect',
    );
    assert.deepEqual(args.positionals, ['ws://a/', '--x']);
    assert.deepEqual(args.list('header'), ['A: 1', 'B: 2', 'C: 3', 'D: 4']);
    assert.equal(args.value('wait'), '-1');
    assert.equal(args.flag('json'), true);
    assert.equal(args.flag('protocol'), false);
    assert.deepEqual(args.list('protocol'), []);
  });

  it('words its errors with what to try', () => {
    assert.equal(
      usage(['--protocl']),
      'unknown option --protocl (did you mean --protocol?); see "wskit connect --help"',
    );
    assert.equal(usage(['-z']), 'unknown option -z; see "wskit connect --help"');
    assert.equal(usage(['--wait']), 'option --wait needs a value <s>; see "wskit connect --help"');
    assert.equal(
      usage(['--json=no']),
      'option --json takes no value, got "no"; see "wskit connect --help"',
    );
  });
});

describe('binary text', () => {
  it('decodes hex and base64 strictly and encodes both', () => {
    assert.deepEqual(decodeBinary('00 ff:0x10', 'hex'), Buffer.from([0, 0xff, 0x10]));
    assert.equal(decodeBinary('abc', 'hex'), undefined);
    assert.deepEqual(decodeBinary('', 'hex'), Buffer.alloc(0));
    assert.deepEqual(parseBase64('AAEC/w=='), Buffer.from([0, 1, 2, 0xff]));
    assert.deepEqual(parseBase64('AAEC_w'), Buffer.from([0, 1, 2, 0xff]));
    for (const bad of ['not base64!', 'A', 'AAE=C', 'AA='])
      assert.equal(parseBase64(bad), undefined, bad);
    const bytes = new Uint8Array([9, 8, 7, 250]).subarray(1);
    assert.equal(encodeBinary(bytes, 'hex'), '0807fa');
    assert.equal(encodeBinary(bytes, 'base64'), 'CAf6');
  });
});

describe('createStyle', () => {
  it('colours with ANSI escapes when enabled, not otherwise', () => {
    assert.equal(createStyle(true).red('x'), '\x1b[31mx\x1b[39m');
    assert.equal(createStyle(false).red('x'), 'x');
  });
});
