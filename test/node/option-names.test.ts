/**
 * Unknown or misplaced options are errors, never silently ignored: the client and server
 * constructors throw a TypeError that names the option and, for `ws`'s, wskit's equivalent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BinaryType,
  WebSocket,
  type WebSocketOptions,
  WebSocketServer,
  type WebSocketServerOptions,
} from '../../src/index.js';

// Nothing listens here; every constructor below throws before connecting.
const URL_ = 'ws://127.0.0.1:1/';

function client(options: Record<string, unknown>): () => WebSocket {
  return () => new WebSocket(URL_, [], options as WebSocketOptions);
}

function server(options: Record<string, unknown>): () => WebSocketServer<BinaryType> {
  return () => new WebSocketServer({ noServer: true, ...options } as WebSocketServerOptions);
}

/** Asserts a TypeError whose message matches every pattern. */
function typeError(...patterns: RegExp[]): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof TypeError, `a TypeError, got ${String(error)}`);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };
}

describe('new WebSocket(): unknown options', () => {
  const wsOptions: Array<[string, unknown, RegExp]> = [
    ['skipUTF8Validation', true, /always validates text as UTF-8/],
    ['autoPong', false, /always answers a ping/],
    ['agent', {}, /proxy option/],
    ['createConnection', () => null, /opens its own connections/],
    ['finishRequest', () => null, /headers option/],
    ['generateMask', () => null, /masking keys/],
    ['protocolVersion', 8, /version 13/],
    ['allowSynchronousEvents', true, /no switch/],
    ['timeout', 1000, /handshakeTimeout/],
    ['auth', 'user:pass', /ws:\/\/user:pass@host/],
    ['ca', 'PEM', /tls: \{ ca: \.\.\. \}/],
    ['rejectUnauthorized', false, /tls: \{ rejectUnauthorized: \.\.\. \}/],
    ['protocols', ['chat'], /second argument/],
  ];
  for (const [name, value, hint] of wsOptions) {
    it(`ws's ${name} is refused with wskit's equivalent`, () => {
      assert.throws(
        client({ [name]: value }),
        typeError(new RegExp(`"${name}"`), /an option of ws/, hint),
      );
    });
  }

  it('a misspelt option gets a "did you mean"', () => {
    assert.throws(
      client({ maxPayLoad: 10 }),
      typeError(/"maxPayLoad"/, /did you mean "maxPayload"/),
    );
    assert.throws(client({ handshaketimeout: 10 }), typeError(/did you mean "handshakeTimeout"/));
  });

  it('an option unlike any gets the list of options', () => {
    assert.throws(client({ frobnicate: 1 }), typeError(/"frobnicate"/, /the options are headers,/));
  });

  it('unknown names inside reconnect, heartbeat, tls and perMessageDeflate are refused too', () => {
    assert.throws(
      client({ reconnect: { minDelay: 1, retries: 3 } }),
      typeError(/^reconnect: unknown option "retries"/),
    );
    assert.throws(
      client({ heartbeat: { interval: 1000, intervall: 5 } }),
      typeError(/^heartbeat: unknown option "intervall"/, /did you mean "interval"/),
    );
    assert.throws(
      client({ tls: { rejectUnauthorised: false } }),
      typeError(/^tls: unknown option "rejectUnauthorised"/, /did you mean "rejectUnauthorized"/),
    );
    assert.throws(
      client({ perMessageDeflate: { zlibDeflateOptions: { level: 1 } } }),
      typeError(/"zlibDeflateOptions"/, /use level and memLevel/),
    );
  });

  it('an option written as undefined changes nothing and is not refused', () => {
    const ws = new WebSocket(URL_, [], {
      verifyClient: undefined,
      reconnect: undefined,
    } as unknown as WebSocketOptions);
    ws.addEventListener('error', () => {});
    ws.terminate();
  });

  it('options that are not an object are refused', () => {
    assert.throws(
      client('fast' as unknown as Record<string, unknown>),
      typeError(/must be an object/),
    );
  });

  it('options in the protocols position get a TypeError saying where they go', () => {
    assert.throws(
      () => new WebSocket(URL_, { headers: { a: 'b' } } as unknown as string[]),
      typeError(
        /second argument is the subprotocols/,
        /options go third/,
        /new WebSocket\(url, \[\], \{ headers \}\)/,
      ),
    );
    assert.throws(
      () => new WebSocket(URL_, null as unknown as string[]),
      typeError(/protocols must be a string or an array of strings \(got null\)/),
    );
  });

  it('WebSocket.connect() still takes protocols among its options', async () => {
    await assert.rejects(
      WebSocket.connect(URL_, { protocols: ['chat'], verifyClient: true } as never),
      typeError(/"verifyClient"/),
    );
  });
});

describe('new WebSocketServer(): unknown options', () => {
  it("ws's verifyClient is refused, pointing to authenticate", () => {
    assert.throws(
      server({ verifyClient: () => false }),
      typeError(/"verifyClient"/, /authenticate\(request\)/, /false for 401/),
    );
  });

  it("ws's clientTracking is wskit's too, and works", () => {
    const wss = new WebSocketServer({ noServer: true, clientTracking: false });
    assert.equal(wss.clients.size, 0);
    wss.close();
  });

  for (const [name, hint] of [
    ['skipUTF8Validation', /UTF-8/],
    ['autoPong', /pong/],
    ['WebSocket', /wskit WebSocket objects/],
    ['cert', /tls: \{ cert: \.\.\. \}/],
    ['key', /tls: \{ key: \.\.\. \}/],
  ] as const) {
    it(`ws's ${name} is refused with what wskit has instead`, () => {
      assert.throws(server({ [name]: true }), typeError(new RegExp(`"${name}"`), hint));
    });
  }

  it('a misspelt option gets a "did you mean"', () => {
    assert.throws(server({ maxPayLoad: 5 }), typeError(/did you mean "maxPayload"/));
    assert.throws(server({ authenticated: () => true }), typeError(/did you mean "authenticate"/));
  });

  it("the heartbeat of a server is validated as a client's is", () => {
    assert.throws(server({ heartbeat: { interval: 0 } }), typeError(/heartbeat: interval/));
    assert.throws(
      server({ heartbeat: { interval: 10, timeout: -1 } }),
      typeError(/heartbeat: interval and timeout/),
    );
    assert.throws(
      server({ heartbeat: { every: 10 } }),
      typeError(/heartbeat: unknown option "every"/),
    );
  });

  it('numeric options and binaryType are validated', () => {
    assert.throws(server({ maxPayload: -1 }), typeError(/maxPayload must be a number >= 0/));
    assert.throws(server({ closeTimeout: 'soon' }), typeError(/closeTimeout/));
    assert.throws(server({ binaryType: 'text' }), typeError(/binaryType must be/));
    assert.throws(client({ maxRedirects: -2 }), typeError(/maxRedirects/));
  });

  it('the mode is still checked: exactly one of port, server and noServer', () => {
    assert.throws(() => new WebSocketServer({}), typeError(/exactly one of the options/));
  });
});
