/**
 * Overte scripts as users port them (issue 10): the WebSocketServer example of Overte's
 * documentation run verbatim, exceptions thrown by script handlers, read-only enums and constants.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocketServer as CoreWebSocketServer } from '../../../src/index.js';
import {
  CloseCode,
  ReadyState,
  SocketError,
  WebSocket,
  WebSocketServer,
} from '../../../src/overte.js';
import { closeServer } from '../../support/scope.js';
import { CallbackWarnings, until } from '../user-code.js';

// Overte's documentation of WebSocketServer, both examples verbatim.
const SERVER_SCRIPT = `
// Server entity script. Echoes received message back to sender.
(function () {
    print("Create WebSocketServer");
    var webSocketServer = new WebSocketServer();
    print("Server url:", webSocketServer.url);

    function onNewConnection(webSocket) {
        print("New connection");

        webSocket.onmessage = function (message) {
            print("Message received:", message.data);

            var returnMessage = message.data + " back!";
            print("Echo a message back:", returnMessage);
            webSocket.send(message.data + " back!");
        };
    }

    webSocketServer.newConnection.connect(onNewConnection);
})
`;

const CLIENT_SCRIPT = `
// Interface script. Bounces message off server entity script.
// Use the server URL reported by the server entity script.
var WEBSOCKET_PING_URL = "ws://127.0.0.1:nnnnn";
var TEST_MESSAGE = "Hello";

print("Create WebSocket");
var webSocket = new WebSocket(WEBSOCKET_PING_URL);

webSocket.onmessage = function(data) {
    print("Message received:", data.data);
};

webSocket.onopen = function() {
    print("WebSocket opened");
    print("Send test message:", TEST_MESSAGE);
    webSocket.send(TEST_MESSAGE);
};
`;

describe('Overte scripts', { timeout: 30_000 }, () => {
  it("the WebSocketServer example of Overte's documentation runs verbatim", async (t) => {
    const lines: string[] = [];
    const print = (...args: unknown[]) => lines.push(args.join(' '));
    const servers: WebSocketServer[] = [];
    const sockets: WebSocket[] = [];
    // Subclasses that only remember instances, so the test can shut them down.
    class TrackedServer extends WebSocketServer {
      constructor(...args: ConstructorParameters<typeof WebSocketServer>) {
        super(...args);
        servers.push(this);
      }
    }
    class TrackedWebSocket extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        sockets.push(this);
      }
    }
    t.after(async () => {
      for (const socket of sockets) socket.close();
      await Promise.all(servers.map((server) => server.close()));
    });

    // Overte evaluates a server entity script to a constructor and instantiates it.
    const entity = new Function('WebSocketServer', 'print', `return (${SERVER_SCRIPT});`)(
      TrackedServer,
      print,
    ) as new () => object;
    new entity();
    assert.deepEqual(lines.slice(0, 1), ['Create WebSocketServer']);
    const url = /^Server url: (ws:\/\/127\.0\.0\.1:\d+)$/.exec(lines[1] ?? '')?.[1];
    assert.ok(url, `the server printed its URL at once: ${lines[1]}`);

    // "Use the server URL reported by the server entity script."
    new Function('WebSocket', 'print', CLIENT_SCRIPT.replace('ws://127.0.0.1:nnnnn', url))(
      TrackedWebSocket,
      print,
    );
    await until(() => lines.includes('Message received: Hello back!'), 'the echo');
    assert.deepEqual(lines.slice(2), [
      'Create WebSocket',
      'New connection',
      'WebSocket opened',
      'Send test message: Hello',
      'Message received: Hello',
      'Echo a message back: Hello back!',
      'Message received: Hello back!',
    ]);
  });

  it('an exception thrown by onmessage, onopen or a newConnection handler is reported and the connection keeps working', async (t) => {
    const warnings = new CallbackWarnings().start();
    t.after(() => warnings.stop());
    const server = new WebSocketServer({ host: '127.0.0.1' });
    t.after(() => server.close());
    await server.ready;
    const boomConnect = new Error('boom in newConnection');
    server.newConnection.connect(() => {
      throw boomConnect;
    });
    server.newConnection.connect((socket) => {
      socket.onmessage = (message) => socket.send(message.data);
    });
    const ws = new WebSocket(server.url);
    t.after(() => ws.close());
    const boomOpen = new Error('boom in onopen');
    const boomMessage = new Error('boom in onmessage');
    const received: unknown[] = [];
    ws.onopen = () => {
      ws.send('one');
      throw boomOpen;
    };
    ws.onmessage = (message) => {
      received.push(message.data);
      if (message.data === 'one') {
        ws.send('two');
        throw boomMessage;
      }
    };
    await until(() => received.length === 2 && warnings.causes.length === 3, 'both echoes');
    assert.deepEqual(received, ['one', 'two']);
    assert.deepEqual(new Set(warnings.causes), new Set([boomConnect, boomOpen, boomMessage]));
    assert.equal(ws.readyState, ReadyState.OPEN);
  });

  it('an exception thrown by onerror or onclose is reported too', async (t) => {
    const warnings = new CallbackWarnings().start();
    t.after(() => warnings.stop());
    const core = new CoreWebSocketServer({ port: 0, host: '127.0.0.1' });
    t.after(() => closeServer(core));
    await new Promise<void>((resolve) => core.once('listening', () => resolve()));
    core.on('connection', (socket) => socket.close(CloseCode.PolicyViolated, 'go away'));
    const { port } = core.address() as { port: number };
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const boom = new Error('boom in onclose');
    let closed = false;
    ws.onclose = () => {
      closed = true;
      throw boom;
    };
    await until(() => closed && warnings.causes.length === 1, 'onclose and its report');
    assert.deepEqual(warnings.causes, [boom]);

    const bad = new WebSocket('ftp://example.org/');
    const boomError = new Error('boom in onerror');
    let closedBad = false;
    bad.onerror = () => {
      throw boomError;
    };
    bad.onclose = () => {
      closedBad = true;
    };
    await until(() => closedBad, 'onclose after onerror');
    assert.deepEqual(warnings.causes, [boom, boomError]);
  });

  it('enums and constants are read-only, on the class and on instances', () => {
    for (const e of [CloseCode, ReadyState, SocketError]) assert.ok(Object.isFrozen(e));
    for (const name of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED', 'CloseCode', 'SocketError']) {
      assert.throws(() => {
        (WebSocket as unknown as Record<string, unknown>)[name] = 9;
      }, TypeError);
    }
    assert.equal(WebSocket.OPEN, 1);
    const ws = new WebSocket('ftp://example.org/');
    assert.throws(() => {
      (ws as unknown as Record<string, unknown>).OPEN = 9;
    }, TypeError);
    assert.equal(ws.OPEN, 1);
  });
});
