/**
 * permessage-deflate negotiation (RFC 7692 sections 5 and 7.1), as pure functions: the client's
 * offer, the server's choice among offers, and the client's validation of the answer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandshakeError } from '../../../src/errors.js';
import {
  acceptDeflateOffer,
  acceptDeflateResponse,
  buildDeflateOffer,
  type DeflateAgreement,
  type DeflateNegotiationOptions,
} from '../../../src/protocol/extensions/permessage-deflate.js';

const DEFAULT_AGREEMENT: DeflateAgreement = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

function agreement(changes: Partial<DeflateAgreement>): DeflateAgreement {
  return { ...DEFAULT_AGREEMENT, ...changes };
}

/** Accepts `header` with `options` and fails the test when the server declines it. */
function accept(header: string, options: DeflateNegotiationOptions = {}) {
  const result = acceptDeflateOffer(header, options);
  assert.ok(result, `"${header}" should have been accepted`);
  return result;
}

/** Parameters of a one-extension header, for order-independent comparisons. */
function paramsOf(header: string): string[] {
  const [name, ...params] = header.split(';').map((p) => p.trim());
  assert.equal(name, 'permessage-deflate');
  return params.sort();
}

function assertRefused(header: string, offered: DeflateNegotiationOptions, why: RegExp): void {
  assert.throws(
    () => acceptDeflateResponse(header, offered),
    (error: unknown) => {
      assert.ok(error instanceof HandshakeError, `a HandshakeError, got ${String(error)}`);
      assert.equal(error.code, 'ERR_WS_HANDSHAKE');
      assert.match(error.message, why);
      return true;
    },
    `"${header}" must be refused`,
  );
}

describe('buildDeflateOffer (client offer)', () => {
  it('offers client_max_window_bits without a value by default', () => {
    assert.equal(buildDeflateOffer({}), 'permessage-deflate; client_max_window_bits');
    assert.equal(
      buildDeflateOffer({ clientMaxWindowBits: true }),
      'permessage-deflate; client_max_window_bits',
    );
  });

  it('offers every parameter that was asked for', () => {
    assert.equal(
      buildDeflateOffer({
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 10,
        clientMaxWindowBits: 11,
      }),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; ' +
        'server_max_window_bits=10; client_max_window_bits=11',
    );
  });

  it('refuses window bits it cannot honour (zlib raw deflate needs 9-15)', () => {
    for (const bits of [8, 16, 0, 9.5, Number.NaN]) {
      assert.throws(() => buildDeflateOffer({ serverMaxWindowBits: bits }), RangeError);
      assert.throws(() => buildDeflateOffer({ clientMaxWindowBits: bits }), RangeError);
    }
  });
});

describe('acceptDeflateOffer (server)', () => {
  it('declines when there is no offer, another extension only, or a malformed header', () => {
    assert.equal(acceptDeflateOffer(undefined, {}), null);
    assert.equal(acceptDeflateOffer('x-webkit-deflate-frame', {}), null);
    assert.equal(acceptDeflateOffer('permessage-deflate;', {}), null);
    assert.equal(acceptDeflateOffer('permessage-deflate; server_max_window_bits="10', {}), null);
    assert.equal(acceptDeflateOffer('', {}), null);
  });

  it('accepts a plain offer with the default agreement', () => {
    const r = accept('permessage-deflate');
    assert.equal(r.response, 'permessage-deflate');
    assert.deepEqual(r.agreement, DEFAULT_AGREEMENT);
  });

  it('accepts server_no_context_takeover and confirms it', () => {
    const r = accept('permessage-deflate; server_no_context_takeover');
    assert.deepEqual(paramsOf(r.response), ['server_no_context_takeover']);
    assert.deepEqual(r.agreement, agreement({ serverNoContextTakeover: true }));
  });

  it('accepts client_no_context_takeover and confirms it', () => {
    const r = accept('permessage-deflate; client_no_context_takeover');
    assert.deepEqual(paramsOf(r.response), ['client_no_context_takeover']);
    assert.deepEqual(r.agreement, agreement({ clientNoContextTakeover: true }));
  });

  it('accepts server_max_window_bits=N and answers with N', () => {
    for (const bits of [9, 10, 12, 15]) {
      const r = accept(`permessage-deflate; server_max_window_bits=${bits}`);
      assert.deepEqual(paramsOf(r.response), [`server_max_window_bits=${bits}`]);
      assert.deepEqual(r.agreement, agreement({ serverMaxWindowBits: bits }));
    }
  });

  it('declines server_max_window_bits=8, which zlib cannot produce, and takes the next offer', () => {
    assert.equal(acceptDeflateOffer('permessage-deflate; server_max_window_bits=8', {}), null);
    const r = accept('permessage-deflate; server_max_window_bits=8, permessage-deflate');
    assert.deepEqual(r.agreement, DEFAULT_AGREEMENT);
  });

  it('accepts client_max_window_bits without a value (no limit needed: answers nothing)', () => {
    const r = accept('permessage-deflate; client_max_window_bits');
    assert.equal(r.response, 'permessage-deflate');
    assert.deepEqual(r.agreement, DEFAULT_AGREEMENT);
  });

  it('accepts client_max_window_bits=N and answers with N', () => {
    for (const bits of [8, 9, 11, 15]) {
      const r = accept(`permessage-deflate; client_max_window_bits=${bits}`);
      assert.deepEqual(paramsOf(r.response), [`client_max_window_bits=${bits}`]);
      assert.deepEqual(r.agreement, agreement({ clientMaxWindowBits: bits }));
    }
  });

  it('accepts all parameters together', () => {
    const r = accept(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; ' +
        'server_max_window_bits=10; client_max_window_bits=11',
    );
    assert.deepEqual(paramsOf(r.response), [
      'client_max_window_bits=11',
      'client_no_context_takeover',
      'server_max_window_bits=10',
      'server_no_context_takeover',
    ]);
    assert.deepEqual(r.agreement, {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 11,
    });
  });

  it('takes a quoted value as the token it contains (RFC 6455 section 9.1)', () => {
    const r = accept(
      'permessage-deflate; server_max_window_bits="10"; client_max_window_bits="11"',
    );
    assert.deepEqual(r.agreement, agreement({ serverMaxWindowBits: 10, clientMaxWindowBits: 11 }));
    assert.deepEqual(paramsOf(r.response), [
      'client_max_window_bits=11',
      'server_max_window_bits=10',
    ]);
  });

  it('skips another extension listed before permessage-deflate', () => {
    const r = accept('x-webkit-deflate-frame; max_window_bits=10, permessage-deflate');
    assert.equal(r.response, 'permessage-deflate');
  });

  const invalidOffers: ReadonlyArray<readonly [string, string]> = [
    ['an unknown parameter', 'permessage-deflate; foo'],
    ['an unknown parameter with a value', 'permessage-deflate; foo=1'],
    [
      'a duplicated flag',
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
    ],
    [
      'a duplicated client_no_context_takeover',
      'permessage-deflate; client_no_context_takeover; client_no_context_takeover',
    ],
    [
      'a duplicated window size',
      'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10',
    ],
    [
      'a duplicated client window size',
      'permessage-deflate; client_max_window_bits; client_max_window_bits=10',
    ],
    ['server_max_window_bits=7', 'permessage-deflate; server_max_window_bits=7'],
    ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16'],
    ['client_max_window_bits=7', 'permessage-deflate; client_max_window_bits=7'],
    ['client_max_window_bits=16', 'permessage-deflate; client_max_window_bits=16'],
    ['a leading zero', 'permessage-deflate; server_max_window_bits=09'],
    ['a quoted leading zero', 'permessage-deflate; client_max_window_bits="09"'],
    ['a non-numeric value', 'permessage-deflate; server_max_window_bits=ten'],
    ['a three-digit value', 'permessage-deflate; server_max_window_bits=010'],
    ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits'],
    ['a value on server_no_context_takeover', 'permessage-deflate; server_no_context_takeover=1'],
    ['a value on client_no_context_takeover', 'permessage-deflate; client_no_context_takeover=1'],
  ];

  for (const [what, bad] of invalidOffers) {
    it(`declines an offer with ${what} and picks the valid one after it`, () => {
      assert.equal(acceptDeflateOffer(bad, {}), null, 'declined on its own');
      const r = accept(`${bad}, permessage-deflate; client_max_window_bits=12`);
      assert.deepEqual(r.agreement, agreement({ clientMaxWindowBits: 12 }));
      assert.equal(r.response, 'permessage-deflate; client_max_window_bits=12');
    });
  }

  it('declines the whole header when every offer is invalid', () => {
    const all = invalidOffers.map(([, bad]) => bad).join(', ');
    assert.equal(acceptDeflateOffer(all, {}), null);
  });

  it('picks the first acceptable offer when several are', () => {
    const r = accept(
      'permessage-deflate; server_max_window_bits=10, permessage-deflate; server_no_context_takeover',
    );
    assert.deepEqual(r.agreement, agreement({ serverMaxWindowBits: 10 }));
  });

  describe('server options', () => {
    it('serverMaxWindowBits caps the server window, answered even if not offered', () => {
      const plain = accept('permessage-deflate', { serverMaxWindowBits: 10 });
      assert.deepEqual(paramsOf(plain.response), ['server_max_window_bits=10']);
      assert.equal(plain.agreement.serverMaxWindowBits, 10);

      const larger = accept('permessage-deflate; server_max_window_bits=12', {
        serverMaxWindowBits: 10,
      });
      assert.deepEqual(paramsOf(larger.response), ['server_max_window_bits=10']);
      assert.equal(larger.agreement.serverMaxWindowBits, 10);

      const smaller = accept('permessage-deflate; server_max_window_bits=9', {
        serverMaxWindowBits: 10,
      });
      assert.deepEqual(paramsOf(smaller.response), ['server_max_window_bits=9']);
      assert.equal(smaller.agreement.serverMaxWindowBits, 9);
    });

    it('clientMaxWindowBits limits the client window when the client allows it', () => {
      const bare = accept('permessage-deflate; client_max_window_bits', {
        clientMaxWindowBits: 10,
      });
      assert.deepEqual(paramsOf(bare.response), ['client_max_window_bits=10']);
      assert.equal(bare.agreement.clientMaxWindowBits, 10);

      const larger = accept('permessage-deflate; client_max_window_bits=12', {
        clientMaxWindowBits: 10,
      });
      assert.deepEqual(paramsOf(larger.response), ['client_max_window_bits=10']);
      assert.equal(larger.agreement.clientMaxWindowBits, 10);

      const smaller = accept('permessage-deflate; client_max_window_bits=9', {
        clientMaxWindowBits: 10,
      });
      assert.deepEqual(paramsOf(smaller.response), ['client_max_window_bits=9']);
      assert.equal(smaller.agreement.clientMaxWindowBits, 9);
    });

    it('clientMaxWindowBits below 15 declines an offer without client_max_window_bits (RFC 7692 7.1.2.2)', () => {
      assert.equal(acceptDeflateOffer('permessage-deflate', { clientMaxWindowBits: 10 }), null);
      const r = accept('permessage-deflate, permessage-deflate; client_max_window_bits', {
        clientMaxWindowBits: 10,
      });
      assert.equal(r.agreement.clientMaxWindowBits, 10);
      // A limit of 15 is no limit at all: nothing to send, nothing to decline.
      assert.equal(
        accept('permessage-deflate', { clientMaxWindowBits: 15 }).response,
        'permessage-deflate',
      );
    });

    it('no-context-takeover options are added to the answer even when not offered', () => {
      const r = accept('permessage-deflate', {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
      });
      assert.deepEqual(paramsOf(r.response), [
        'client_no_context_takeover',
        'server_no_context_takeover',
      ]);
      assert.deepEqual(
        r.agreement,
        agreement({ serverNoContextTakeover: true, clientNoContextTakeover: true }),
      );
    });
  });
});

describe('acceptDeflateResponse (client validates the answer)', () => {
  it('accepts a plain answer to the default offer', () => {
    assert.deepEqual(acceptDeflateResponse('permessage-deflate', {}), DEFAULT_AGREEMENT);
  });

  it('accepts server_no_context_takeover and client_no_context_takeover even if not asked for', () => {
    assert.deepEqual(
      acceptDeflateResponse('permessage-deflate; server_no_context_takeover', {}),
      agreement({ serverNoContextTakeover: true }),
    );
    assert.deepEqual(
      acceptDeflateResponse('permessage-deflate; client_no_context_takeover', {}),
      agreement({ clientNoContextTakeover: true }),
    );
  });

  it('confirmed server_no_context_takeover is accepted', () => {
    assert.deepEqual(
      acceptDeflateResponse('permessage-deflate; server_no_context_takeover', {
        serverNoContextTakeover: true,
      }),
      agreement({ serverNoContextTakeover: true }),
    );
  });

  it('keeps its own client_no_context_takeover even when the answer leaves it out', () => {
    assert.deepEqual(
      acceptDeflateResponse('permessage-deflate', { clientNoContextTakeover: true }),
      agreement({ clientNoContextTakeover: true }),
    );
  });

  it('accepts server_max_window_bits up to the requested value, or any when not requested', () => {
    const offered = { serverMaxWindowBits: 12 };
    for (const bits of [8, 9, 12]) {
      assert.equal(
        acceptDeflateResponse(`permessage-deflate; server_max_window_bits=${bits}`, offered)
          .serverMaxWindowBits,
        bits,
      );
    }
    assert.equal(
      acceptDeflateResponse('permessage-deflate; server_max_window_bits=10', {})
        .serverMaxWindowBits,
      10,
    );
  });

  it('accepts client_max_window_bits up to the offered value', () => {
    for (const offered of [{ clientMaxWindowBits: true as const }, { clientMaxWindowBits: 12 }]) {
      for (const bits of [9, 12]) {
        assert.deepEqual(
          acceptDeflateResponse(`permessage-deflate; client_max_window_bits=${bits}`, offered),
          agreement({ clientMaxWindowBits: bits }),
        );
      }
    }
  });

  it('accepts quoted values', () => {
    assert.deepEqual(
      acceptDeflateResponse(
        'permessage-deflate; server_max_window_bits="10"; client_max_window_bits="11"',
        { clientMaxWindowBits: true },
      ),
      agreement({ serverMaxWindowBits: 10, clientMaxWindowBits: 11 }),
    );
  });

  it('accepts all four parameters at once', () => {
    assert.deepEqual(
      acceptDeflateResponse(
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover; ' +
          'server_max_window_bits=10; client_max_window_bits=11',
        {
          serverNoContextTakeover: true,
          clientNoContextTakeover: true,
          serverMaxWindowBits: 10,
          clientMaxWindowBits: 11,
        },
      ),
      {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 10,
        clientMaxWindowBits: 11,
      },
    );
  });

  it('accepts client_max_window_bits=N answered to the default offer, which includes client_max_window_bits', {}, () => {
    assert.match(buildDeflateOffer({}), /client_max_window_bits/);
    assert.deepEqual(
      acceptDeflateResponse('permessage-deflate; client_max_window_bits=12', {}),
      agreement({ clientMaxWindowBits: 12 }),
    );
  });

  describe('refuses', () => {
    it('an unknown parameter', () => {
      assertRefused('permessage-deflate; foo', {}, /invalid, unknown or repeated/);
      assertRefused('permessage-deflate; x_max_window_bits=10', {}, /invalid, unknown or repeated/);
    });

    it('a duplicated parameter', () => {
      assertRefused(
        'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
        {},
        /invalid, unknown or repeated/,
      );
      assertRefused(
        'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10',
        {},
        /invalid, unknown or repeated/,
      );
      assertRefused(
        'permessage-deflate; client_max_window_bits=10; client_max_window_bits=10',
        { clientMaxWindowBits: true },
        /invalid, unknown or repeated/,
      );
    });

    it('invalid values', () => {
      for (const header of [
        'permessage-deflate; server_max_window_bits=7',
        'permessage-deflate; server_max_window_bits=16',
        'permessage-deflate; server_max_window_bits=09',
        'permessage-deflate; server_max_window_bits',
        'permessage-deflate; server_no_context_takeover=true',
        'permessage-deflate; client_max_window_bits=16',
      ]) {
        assertRefused(header, { clientMaxWindowBits: true }, /invalid, unknown or repeated/);
      }
    });

    it('client_max_window_bits without a value (only an offer may carry it bare)', () => {
      assertRefused(
        'permessage-deflate; client_max_window_bits',
        { clientMaxWindowBits: true },
        /invalid, unknown or repeated/,
      );
    });

    it('client_max_window_bits larger than offered', () => {
      assertRefused(
        'permessage-deflate; client_max_window_bits=12',
        { clientMaxWindowBits: 10 },
        /client_max_window_bits must be at most 10/,
      );
    });

    it('client_max_window_bits=8, which zlib cannot compress with', () => {
      assertRefused(
        'permessage-deflate; client_max_window_bits=8',
        { clientMaxWindowBits: true },
        /client_max_window_bits=8/,
      );
    });

    it('server_max_window_bits larger than requested', () => {
      assertRefused(
        'permessage-deflate; server_max_window_bits=11',
        { serverMaxWindowBits: 10 },
        /server_max_window_bits must be at most 10/,
      );
    });

    it('a missing server_max_window_bits that was requested (RFC 7692 7.1.2.1)', () => {
      assertRefused(
        'permessage-deflate',
        { serverMaxWindowBits: 10 },
        /server_max_window_bits must be at most 10/,
      );
    });

    it('a missing server_no_context_takeover that was requested', () => {
      assertRefused(
        'permessage-deflate; client_no_context_takeover',
        { serverNoContextTakeover: true },
        /server_no_context_takeover was requested/,
      );
    });

    it('another extension name', () => {
      assertRefused('x-webkit-deflate-frame', {}, /was not offered/);
      assertRefused('permessage-bzip2', {}, /was not offered/);
    });

    it('two extensions', () => {
      assertRefused('permessage-deflate, permessage-deflate', {}, /was not offered/);
      assertRefused('permessage-deflate, x-foo', {}, /was not offered/);
    });

    it('a malformed header', () => {
      assertRefused('permessage-deflate;', {}, /malformed/);
      assertRefused('permessage-deflate; server_max_window_bits="1 0"', {}, /malformed/);
    });
  });
});

describe('offer → answer → validation round trip', () => {
  const bools = [false, true];
  const clientOptions: DeflateNegotiationOptions[] = [];
  for (const serverNoContextTakeover of bools)
    for (const clientNoContextTakeover of bools)
      for (const serverMaxWindowBits of [undefined, 9, 12, 15])
        for (const clientMaxWindowBits of [undefined, true as const, 10, 15])
          clientOptions.push({
            serverNoContextTakeover,
            clientNoContextTakeover,
            ...(serverMaxWindowBits !== undefined ? { serverMaxWindowBits } : {}),
            ...(clientMaxWindowBits !== undefined ? { clientMaxWindowBits } : {}),
          });
  const serverOptions: DeflateNegotiationOptions[] = [];
  for (const serverNoContextTakeover of bools)
    for (const clientNoContextTakeover of bools)
      for (const serverMaxWindowBits of [undefined, 10])
        for (const clientMaxWindowBits of [undefined, 11])
          serverOptions.push({
            serverNoContextTakeover,
            clientNoContextTakeover,
            ...(serverMaxWindowBits !== undefined ? { serverMaxWindowBits } : {}),
            ...(clientMaxWindowBits !== undefined ? { clientMaxWindowBits } : {}),
          });

  function assertNoFailures(failures: readonly string[]): void {
    assert.equal(
      failures.length,
      0,
      `${failures.length} combinations failed, e.g.:\n${failures.slice(0, 3).join('\n')}`,
    );
  }

  /** Runs one combination; returns a description of what went wrong, or null. */
  function check(c: DeflateNegotiationOptions, s: DeflateNegotiationOptions): string | null {
    const offer = buildDeflateOffer(c);
    const accepted = acceptDeflateOffer(offer, s);
    if (!accepted) return `server declined "${offer}"`;
    let client: DeflateAgreement;
    try {
      client = acceptDeflateResponse(accepted.response, c);
    } catch (error) {
      return `client refused "${accepted.response}" to "${offer}": ${(error as Error).message}`;
    }
    try {
      assert.deepEqual(client, accepted.agreement);
    } catch {
      return `agreements differ for "${offer}" → "${accepted.response}"`;
    }
    const a = client;
    if (c.serverNoContextTakeover && !a.serverNoContextTakeover) return 'server takeover kept';
    if (c.clientNoContextTakeover && !a.clientNoContextTakeover) return 'client takeover kept';
    if (s.serverNoContextTakeover && !a.serverNoContextTakeover) return 'server option ignored';
    if (s.clientNoContextTakeover && !a.clientNoContextTakeover) return 'client option ignored';
    if (c.serverMaxWindowBits !== undefined && a.serverMaxWindowBits > c.serverMaxWindowBits)
      return 'server window above the request';
    if (s.serverMaxWindowBits !== undefined && a.serverMaxWindowBits > s.serverMaxWindowBits)
      return 'server window above the server option';
    if (typeof c.clientMaxWindowBits === 'number' && a.clientMaxWindowBits > c.clientMaxWindowBits)
      return 'client window above the offer';
    if (typeof s.clientMaxWindowBits === 'number' && a.clientMaxWindowBits > s.clientMaxWindowBits)
      return 'client window above the server option';
    return null;
  }

  it('every combination where the server does not limit the client window agrees on both ends', () => {
    const failures: string[] = [];
    for (const c of clientOptions)
      for (const s of serverOptions) {
        if (s.clientMaxWindowBits !== undefined) continue;
        const problem = check(c, s);
        if (problem) failures.push(`${JSON.stringify(c)} × ${JSON.stringify(s)}: ${problem}`);
      }
    assertNoFailures(failures);
  });

  it('every combination where the server limits the client window and the client set a limit agrees', () => {
    const failures: string[] = [];
    for (const c of clientOptions)
      for (const s of serverOptions) {
        if (s.clientMaxWindowBits === undefined || c.clientMaxWindowBits === undefined) continue;
        const problem = check(c, s);
        if (problem) failures.push(`${JSON.stringify(c)} × ${JSON.stringify(s)}: ${problem}`);
      }
    assertNoFailures(failures);
  });

  it('a client with default options accepts a server that limits client_max_window_bits', {}, () => {
    const failures: string[] = [];
    for (const c of clientOptions)
      for (const s of serverOptions) {
        if (s.clientMaxWindowBits === undefined || c.clientMaxWindowBits !== undefined) continue;
        const problem = check(c, s);
        if (problem) failures.push(`${JSON.stringify(c)} × ${JSON.stringify(s)}: ${problem}`);
      }
    assertNoFailures(failures);
  });
});
