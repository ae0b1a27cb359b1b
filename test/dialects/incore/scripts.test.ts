/**
 * InCore as ported QML uses it (issue 10 items 7-10, 14, 16), the read buffer's linearity and cap
 * (issue 12 item 6), and the property bag's check (issue 13 item 1), against local servers.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { ReadBuffer } from '../../../src/dialects/incore/read-buffer.js';
import { Error as InCoreError, State, WebSocket } from '../../../src/incore.js';
import {
  type BinaryType,
  WebSocketServer,
  type WebSocketServerOptions,
  type WebSocket as WskitSocket,
} from '../../../src/index.js';
import { closedPort } from '../../support/ports.js';
import { closeServer } from '../../support/scope.js';
import { CallbackWarnings, until } from '../user-code.js';

interface Server {
  url: string;
  wss: WebSocketServer<BinaryType>;
  sockets: WskitSocket[];
}

async function server(
  t: TestContext,
  options: Partial<WebSocketServerOptions> = {},
): Promise<Server> {
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    binaryType: 'arraybuffer',
    ...options,
  });
  t.after(() => closeServer(wss));
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const sockets: WskitSocket[] = [];
  wss.on('connection', (socket) => {
    sockets.push(socket);
    socket.onmessage = (event) => socket.send(event.data as string | ArrayBuffer);
  });
  const { port } = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}/`, wss, sockets };
}

function create(t: TestContext, init: ConstructorParameters<typeof WebSocket>[0]): WebSocket {
  const ws = new WebSocket(init);
  t.after(async () => {
    ws.autoConnect = false;
    ws.close();
    await until(() => ws.state === State.Closed, 'the object to close').catch(() => {});
  });
  return ws;
}

describe('InCore as QML scripts use it', { timeout: 60_000 }, () => {
  it('item 7: autoConnect reconnects after a graceful close by the server (1001), not after disconnectFromHost()', async (t) => {
    const s = await server(t);
    let connects = 0;
    const ws = create(t, { url: s.url, reconnectDelay: 10, onConnected: () => connects++ });
    await until(() => connects === 1, 'the first connection');
    s.sockets[0]!.close(1001, 'restarting');
    await until(() => connects === 2, 'the reconnection after 1001');
    assert.equal(ws.error, InCoreError.NoError, 'a clean close by the server is not an error');
    ws.disconnectFromHost();
    await until(() => ws.state === State.Closed, 'closed');
    // A reconnect would connect within reconnectDelay; wait for the server to see no new socket
    // across a full round trip of another client instead of sleeping.
    const probe = create(t, { url: s.url });
    await until(() => probe.state === State.Open, 'the probe');
    assert.equal(connects, 2);
    assert.equal(s.sockets.length, 3);
  });

  it('item 8: disconnected() after a failed attempt (Connecting -> Closed); a server close passes through Closing', async (t) => {
    const port = await closedPort();
    const states: number[] = [];
    let disconnected = 0;
    const ws = create(t, {
      url: `ws://127.0.0.1:${port}/`,
      autoConnect: false,
      onDisconnected: () => disconnected++,
    });
    ws.stateChanged.connect(() => states.push(ws.state));
    ws.connectToHost();
    await until(() => disconnected === 1, 'disconnected after the failed attempt');
    assert.deepEqual(states, [State.Connecting, State.Closed]);

    const s = await server(t);
    const states2: number[] = [];
    let disconnected2 = 0;
    const ws2 = create(t, {
      url: s.url,
      autoConnect: false,
      onDisconnected: () => disconnected2++,
    });
    ws2.stateChanged.connect(() => states2.push(ws2.state));
    ws2.connectToHost();
    await until(() => ws2.state === State.Open, 'open');
    s.sockets[0]!.close(1000);
    await until(() => disconnected2 === 1, 'disconnected after the server closed');
    assert.deepEqual(states2, [State.Connecting, State.Open, State.Closing, State.Closed]);
  });

  it('item 9 / issue 13: a misspelt handler or property is a TypeError naming the right one', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ onconnected: () => {} }, /"onconnected".*did you mean "onConnected"/],
      [{ ontextMessageReceived: () => {} }, /did you mean "onTextMessageReceived"/],
      [{ autoconnect: false }, /"autoconnect".*did you mean "autoConnect"/],
      [{ URL: 'ws://x' }, /did you mean "url"/],
      [{ protocol: 'chat' }, /did you mean "subProtocol"/],
      [{ headers: {} }, /did you mean "socketOptions"/],
      [{ onBogus: () => {} }, /"onBogus"/],
    ];
    for (const [init, message] of cases) {
      assert.throws(
        () => new WebSocket(init as never),
        (error: Error) => error instanceof TypeError && message.test(error.message),
        JSON.stringify(Object.keys(init)),
      );
    }
    assert.throws(() => new WebSocket({ onConnected: 'no' } as never), TypeError);
    assert.throws(() => new WebSocket({ reconnectDelay: -1 }), RangeError);
  });

  it('item 10: an invalid subProtocol is reported as a subprotocol error, not as an invalid URL', async (t) => {
    const s = await server(t);
    const numbers: number[] = [];
    const ws = create(t, { url: s.url, subProtocol: 'not a token', autoConnect: false });
    ws.ipSocketErrorOccurred.connect((n) => numbers.push(n));
    ws.connectToHost();
    assert.equal(ws.error, InCoreError.IpSocketError);
    assert.match(ws.errorString, /subProtocol "not a token"/);
    assert.doesNotMatch(ws.errorString, /URL/);
    assert.equal(ws.state, State.Closed);
    assert.equal(s.sockets.length, 0);
    ws.subProtocol = 'chat';
    ws.connectToHost();
    await until(() => ws.state === State.Open, 'open with a valid subprotocol');
  });

  it('item 15: an invalid URL gives 0 and an unsupported scheme 10, as Qt', async (t) => {
    for (const [url, number] of [
      ['ftp://example.org/', 10],
      ['example.org', 10],
      ['ws://exa mple.org/', 0],
    ] as const) {
      const numbers: number[] = [];
      const ws = create(t, { url, autoConnect: false });
      ws.ipSocketErrorOccurred.connect((n) => numbers.push(n));
      ws.connectToHost();
      assert.deepEqual(numbers, [number], url);
      assert.equal(ws.error, InCoreError.IpSocketError);
    }
    const refused = await server(t, {
      authenticate: () => ({ status: 403, body: 'no' }),
    });
    const numbers: number[] = [];
    const ws = create(t, { url: refused.url, autoConnect: false });
    ws.ipSocketErrorOccurred.connect((n) => numbers.push(n));
    ws.connectToHost();
    await until(() => numbers.length === 1, 'the refusal');
    assert.deepEqual(numbers, [0], 'HTTP 403: ConnectionRefusedError, as QWebSocket');
  });

  it('item 14: a handler that throws is reported and the connection keeps working', async (t) => {
    const warnings = new CallbackWarnings().start();
    t.after(() => warnings.stop());
    const s = await server(t);
    const received: string[] = [];
    const boom = new Error('boom in onTextMessageReceived');
    const ws = create(t, {
      url: s.url,
      onConnected() {
        this.sendTextMessage('one');
      },
      onTextMessageReceived(message: string) {
        received.push(message);
        if (message === 'one') {
          this.sendTextMessage('two');
          throw boom;
        }
      },
    });
    await until(() => received.length === 2 && warnings.causes.length === 1, 'both echoes');
    assert.deepEqual(received, ['one', 'two']);
    assert.deepEqual(warnings.causes, [boom]);
    assert.equal(ws.state, State.Open);
  });

  it('item 16: the Error and State enums and the static constants are read-only', async () => {
    const m = await import('../../../src/incore.js');
    assert.ok(Object.isFrozen(m.Error));
    assert.ok(Object.isFrozen(m.State));
    for (const name of ['NotOpenError', 'Open', 'Closed']) {
      assert.throws(() => {
        (WebSocket as unknown as Record<string, unknown>)[name] = 42;
      }, TypeError);
    }
    assert.equal(WebSocket.Open, 1);
  });
});

describe('InCore read buffer (issue 12 item 6)', { timeout: 60_000 }, () => {
  /** Appends `n` one-byte chunks without a newline, asking canReadLine after each as InCore does. */
  function searchedFor(n: number): number {
    const buffer = new ReadBuffer();
    const byte = new Uint8Array([0x41]);
    for (let i = 0; i < n; i++) {
      buffer.append(byte);
      assert.equal(buffer.indexOfNewline(), -1);
    }
    return buffer.bytesSearched;
  }

  it('searches each received byte once: work is proportional to the bytes, not to their square', () => {
    assert.equal(searchedFor(4_000), 4_000);
    assert.equal(searchedFor(40_000), 40_000);
    const buffer = new ReadBuffer();
    for (let i = 0; i < 10_000; i++) buffer.append(new Uint8Array([0x61, 0x0a]));
    let lines = 0;
    while (buffer.indexOfNewline() >= 0) {
      buffer.take(buffer.indexOfNewline() + 1);
      lines++;
    }
    assert.equal(lines, 10_000);
    assert.equal(buffer.bytesSearched, 20_000);
  });

  it('40,000 one-byte binary messages without a newline fill the IoDevice buffer of a real connection', async (t) => {
    const s = await server(t);
    const ws = create(t, { url: s.url, autoConnect: false });
    ws.open();
    await until(() => ws.state === State.Open, 'open');
    const peer = s.sockets[0]!;
    const byte = new Uint8Array([0x42]);
    for (let i = 0; i < 40_000; i++) peer.send(byte);
    peer.send(new Uint8Array([0x0a]));
    await until(() => ws.canReadLine, 'the newline', 30_000);
    assert.equal(ws.bytesAvailable, 40_001);
    const line = new Uint8Array(ws.readLine());
    assert.equal(line.length, 40_001);
    assert.equal(ws.bytesAvailable, 0);
  });

  it('past readBufferSize the connection is failed (1009) with the reason, instead of growing', async (t) => {
    const s = await server(t);
    let closedWith: number | undefined;
    const ws = create(t, { url: s.url, autoConnect: false, readBufferSize: 10 });
    ws.open();
    await until(() => ws.state === State.Open, 'open');
    const peer = s.sockets[0]!;
    peer.onclose = (event) => {
      closedWith = event.code;
    };
    peer.send(new Uint8Array(8));
    await until(() => ws.bytesAvailable === 8, 'the first 8 bytes');
    peer.send(new Uint8Array(3));
    await until(() => closedWith !== undefined, 'the close at the server');
    assert.equal(closedWith, 1009);
    assert.equal(ws.error, InCoreError.IpSocketError);
    assert.match(ws.errorString, /read buffer is full/);
    assert.match(ws.deviceErrorString, /raise readBufferSize/);
    assert.equal(ws.bytesAvailable, 8, 'what was buffered can still be read');
  });
});
