/**
 * 4D code as users port it (issue 10 items 11-13, 16) and the handler check (issue 13 item 1),
 * against a local echo server.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import {
  FourD,
  type FourDConnectionHandler,
  FourDErrorCode,
  type FourDTerminateEvent,
  WebSocket,
} from '../../../src/4d.js';
import { WebSocketServer } from '../../../src/index.js';
import { closeServer } from '../../support/scope.js';
import { until } from '../user-code.js';

async function echoServer(t: TestContext): Promise<string> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  t.after(() => closeServer(wss));
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (socket) => {
    socket.onmessage = (event) => socket.send(event.data as string);
  });
  return `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`;
}

describe('4D code as users write it', { timeout: 30_000 }, () => {
  it('item 11: dataType is matched without regard to case ("Object", "BLOB", "Text")', async (t) => {
    const url = await echoServer(t);
    for (const [given, expected] of [
      ['Object', 'object'],
      ['BLOB', 'blob'],
      ['Text', 'text'],
    ] as const) {
      const received: unknown[] = [];
      let ended: FourDTerminateEvent | undefined;
      const ws = WebSocket.new(url, {
        dataType: given as never,
        onOpen: (socket) => socket.send({ n: 1 }),
        onMessage: (socket, event) => {
          received.push(event.data);
          socket.terminate();
        },
        onTerminate: (_socket, event) => {
          ended = event;
        },
      });
      assert.ok(ws);
      assert.equal(ws.dataType, expected);
      await until(() => ended !== undefined, `the ${given} round trip`);
      if (expected === 'object') assert.deepEqual(received, [{ n: 1 }]);
      if (expected === 'text') assert.deepEqual(received, ['{"n":1}']);
      if (expected === 'blob') {
        assert.ok(received[0] instanceof Blob);
        assert.equal(await (received[0] as Blob).text(), '{"n":1}');
      }
    }
    assert.throws(() => WebSocket.new(url, { dataType: 'json' as never }), TypeError);
  });

  it('item 12: .url is the URL exactly as given', async (t) => {
    const url = await echoServer(t);
    const given = url.replace(/\/$/, '').replace('ws:', 'WS:');
    let ended = false;
    const ws = WebSocket.new(given, {
      onOpen: (s) => s.terminate(),
      onTerminate: () => (ended = true),
    });
    assert.ok(ws);
    assert.equal(ws.url, given);
    await until(() => ended, 'the end');
  });

  it('item 13: JSON.stringify(ws) and Object.keys(ws) show its properties, as 4D inspects objects', async (t) => {
    const url = await echoServer(t);
    let ended = false;
    const handler: FourDConnectionHandler = { dataType: 'text', onTerminate: () => (ended = true) };
    const ws = WebSocket.new(url, handler);
    assert.ok(ws);
    assert.deepEqual(Object.keys(ws).sort(), ['dataType', 'handler', 'id', 'status', 'url']);
    assert.deepEqual(JSON.parse(JSON.stringify(ws)), {
      dataType: 'text',
      handler: { dataType: 'text' },
      id: ws.id,
      status: 'Connecting',
      url,
    });
    assert.throws(() => {
      (ws as unknown as { status: string }).status = 'Closed';
    }, TypeError);
    ws.terminate();
    await until(() => ended, 'the end');
    assert.equal(JSON.parse(JSON.stringify(ws)).status, 'Closed');
  });

  it('issue 13: a callback spelt differently from 4D is a TypeError naming the right one', () => {
    const url = 'ws://127.0.0.1:1/';
    const cases: Array<[object, RegExp]> = [
      [{ onmessage: () => {} }, /"onmessage".*did you mean "onMessage"/],
      [{ onClose: () => {} }, /"onClose".*did you mean "onTerminate"/],
      [{ datatype: 'text' }, /"datatype".*did you mean "dataType"/],
      [
        new (class {
          onopen() {}
        })(),
        /"onopen".*did you mean "onOpen"/,
      ],
    ];
    for (const [handler, message] of cases) {
      assert.throws(
        () => WebSocket.new(url, handler as FourDConnectionHandler),
        (error: Error) => error instanceof TypeError && message.test(error.message),
      );
    }
    // Members of the handler's own (state, helpers) are its business.
    class Handler {
      count = 0;
      helper() {}
      onTerminate() {}
    }
    const ws = WebSocket.new(url, new Handler());
    assert.ok(ws);
    ws.terminate();
  });

  it('item 16: the error-code enum and the FourD namespace are read-only', () => {
    assert.ok(Object.isFrozen(FourDErrorCode));
    assert.ok(Object.isFrozen(FourD));
    assert.throws(() => {
      (FourDErrorCode as unknown as Record<string, number>).NOT_OPEN = 9;
    }, TypeError);
  });
});
