/**
 * Interoperability with the `ws` library, both ways: a wskit client against a `ws` server and a
 * `ws` client against a wskit server. Every `ws` endpoint runs with permessage-deflate off unless
 * a test is about the extension offer (wskit does not implement compression yet).
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { WebSocket as WsClient } from 'ws';
import { HandshakeError, ProtocolError, WebSocketServer } from '../../src/index.js';
import {
  AsyncQueue,
  asciiText,
  binaryPayload,
  Cleanup,
  closeWskitServer,
  connectWs,
  connectWskit,
  failingWskit,
  rawFrame,
  SIZES,
  sizeLabel,
  startWskitServer,
  startWsServer,
  T,
  UNICODE_TEXT,
  type WskitPeer,
  type WsPeer,
} from './helpers/peers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const PIPELINED = 1000;

async function wsServer(options: Parameters<typeof startWsServer>[0] = {}) {
  const handle = await startWsServer(options);
  cleanup.add(() => handle.close());
  return handle;
}

async function wskitServer(options: Parameters<typeof startWskitServer>[0] = {}) {
  const handle = await startWskitServer(options);
  cleanup.add(() => handle.close());
  return handle;
}

async function wskitClient(...args: Parameters<typeof connectWskit>): Promise<WskitPeer> {
  const peer = await connectWskit(...args);
  cleanup.terminate(peer.ws);
  return peer;
}

async function wsClient(...args: Parameters<typeof connectWs>): Promise<WsPeer> {
  const peer = await connectWs(...args);
  cleanup.terminate(peer.sock);
  return peer;
}

function assertProtocolError(error: unknown, closeCode: number, code: string): void {
  assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${String(error)}`);
  assert.equal(error.closeCode, closeCode);
  assert.equal(error.code, code);
}

// ---------------------------------------------------------------------------------------------

describe('wskit client -> ws server', () => {
  describe('echo', () => {
    for (const size of SIZES) {
      it(`text message of ${sizeLabel(size)} comes back identical`, T, async () => {
        const srv = await wsServer({ echo: true });
        const client = await wskitClient(srv.url);
        const text = asciiText(size, size);
        client.ws.send(text);
        const echoed = await client.nextText();
        assert.equal(echoed.length, size);
        assert.equal(echoed, text);
      });

      it(`binary message of ${sizeLabel(size)} comes back byte-exact`, T, async () => {
        const srv = await wsServer({ echo: true });
        const client = await wskitClient(srv.url, [], { binaryType: 'nodebuffer' });
        const data = binaryPayload(size);
        client.ws.send(data);
        const echoed = await client.nextBinary();
        assert.equal(echoed.length, size);
        assert.ok(echoed.equals(data), 'echoed bytes differ');
      });
    }

    it('unicode text, short and long (multi-byte sequences across TCP chunks)', T, async () => {
      const srv = await wsServer({ echo: true });
      const client = await wskitClient(srv.url);
      const long = UNICODE_TEXT.repeat(5000);
      client.ws.send(UNICODE_TEXT);
      client.ws.send(long);
      assert.equal(await client.nextText(), UNICODE_TEXT);
      const echoed = await client.nextText();
      assert.equal(Buffer.byteLength(echoed), Buffer.byteLength(long));
      assert.equal(echoed, long);
    });

    it('the server receives the exact bytes of text and binary', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.ws.send(UNICODE_TEXT);
      client.ws.send(new Uint8Array([1, 2, 3]));
      const text = await peer.messages.next();
      assert.equal(text.binary, false);
      assert.ok(text.data.equals(Buffer.from(UNICODE_TEXT, 'utf8')));
      const binary = await peer.messages.next();
      assert.equal(binary.binary, true);
      assert.deepEqual([...binary.data], [1, 2, 3]);
    });

    it('every send() data type arrives byte-exact and in call order', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      const backing = new Uint8Array([9, 9, 1, 2, 3, 4, 5, 9, 9]);
      client.ws.send(backing.subarray(2, 7)); // a view with an offset
      client.ws.send(new DataView(backing.buffer, 3, 2));
      client.ws.send(new Uint16Array([0x0102, 0x0304]));
      client.ws.send(backing.buffer.slice(0, 2));
      client.ws.send(new Blob([Buffer.from('blob-bytes')]));
      client.ws.send('after the blob');
      const got = await peer.messages.take(6);
      assert.deepEqual(
        got.map((m) => m.binary),
        [true, true, true, true, true, false],
      );
      assert.deepEqual([...got[0]!.data], [1, 2, 3, 4, 5]);
      assert.deepEqual([...got[1]!.data], [2, 3]);
      assert.ok(got[2]!.data.equals(Buffer.from(new Uint16Array([0x0102, 0x0304]).buffer)));
      assert.deepEqual([...got[3]!.data], [9, 9]);
      assert.equal(got[4]!.data.toString(), 'blob-bytes');
      assert.equal(got[5]!.data.toString(), 'after the blob');
    });

    it('binaryType arraybuffer and blob deliver the same bytes as nodebuffer', T, async () => {
      const srv = await wsServer({ echo: true });
      const client = await wskitClient(srv.url);
      const data = binaryPayload(300);
      assert.equal(client.ws.binaryType, 'blob');
      client.ws.send(data);
      const asBlob = await client.messages.next();
      assert.ok(asBlob instanceof Blob);
      assert.ok(Buffer.from(await asBlob.arrayBuffer()).equals(data));
      client.ws.binaryType = 'arraybuffer';
      client.ws.send(data);
      const asArrayBuffer = await client.messages.next();
      assert.ok(asArrayBuffer instanceof ArrayBuffer);
      assert.ok(Buffer.from(asArrayBuffer).equals(data));
      client.ws.binaryType = 'nodebuffer';
      client.ws.send(data);
      const asBuffer = await client.messages.next();
      assert.ok(Buffer.isBuffer(asBuffer));
      assert.ok(asBuffer.equals(data));
    });

    it(`${PIPELINED} pipelined messages come back in order`, T, async () => {
      const srv = await wsServer({ echo: true });
      const client = await wskitClient(srv.url, [], { binaryType: 'nodebuffer' });
      for (let i = 0; i < PIPELINED; i++) {
        if (i % 2 === 0) client.ws.send(`message ${i}`);
        else client.ws.send(Buffer.from(`binary ${i}`));
      }
      const got = await client.messages.take(PIPELINED);
      for (let i = 0; i < PIPELINED; i++) {
        const m = got[i];
        if (i % 2 === 0) assert.equal(m, `message ${i}`);
        else assert.ok(Buffer.isBuffer(m) && m.toString() === `binary ${i}`, `message ${i}`);
      }
      assert.equal(client.messages.length, 0);
      assert.equal(client.ws.bufferedAmount, 0);
    });

    it('messages the server sends right after the handshake are delivered', T, async () => {
      const srv = await wsServer({
        onConnection: (sock) => {
          for (let i = 0; i < 10; i++) sock.send(`early ${i}`);
        },
      });
      const client = await wskitClient(srv.url);
      const got = await client.messages.take(10);
      assert.deepEqual(
        got,
        Array.from({ length: 10 }, (_, i) => `early ${i}`),
      );
    });
  });

  describe('handshake', () => {
    it('the subprotocol the server picks is reported on both ends', T, async () => {
      const offered: string[][] = [];
      const srv = await wsServer({
        handleProtocols: (protocols) => {
          offered.push([...protocols]);
          return protocols.has('chat.v1') ? 'chat.v1' : false;
        },
      });
      const client = await wskitClient(srv.url, ['chat.v2', 'chat.v1']);
      const { peer } = await srv.accepted.next();
      assert.deepEqual(offered, [['chat.v2', 'chat.v1']]);
      assert.equal(client.ws.protocol, 'chat.v1');
      assert.equal(peer.sock.protocol, 'chat.v1');
    });

    it('a server that picks no subprotocol leaves protocol empty', T, async () => {
      const srv = await wsServer({ handleProtocols: () => false });
      const client = await wskitClient(srv.url, ['chat.v2']);
      const { req } = await srv.accepted.next();
      assert.equal(req.headers['sec-websocket-protocol'], 'chat.v2');
      assert.equal(client.ws.protocol, '');
    });

    it('a subprotocol the client did not offer fails the connection', T, async () => {
      const srv = await wsServer();
      srv.wss.on('headers', (headers) => headers.push('Sec-WebSocket-Protocol: evil'));
      const { peer, close, opened } = await failingWskit(srv.url, ['chat']);
      assert.equal(opened, false);
      assert.ok(peer.errors[0] instanceof HandshakeError);
      assert.deepEqual(close, { code: 1006, reason: '', wasClean: false });
    });

    it('an extension the client did not offer fails the connection', T, async () => {
      const srv = await wsServer();
      srv.wss.on('headers', (headers) => headers.push('Sec-WebSocket-Extensions: x-never-offered'));
      const { peer, close, opened } = await failingWskit(srv.url);
      assert.equal(opened, false);
      assert.ok(peer.errors[0] instanceof HandshakeError);
      assert.equal(close.code, 1006);
      assert.equal(close.wasClean, false);
    });

    it('custom headers, Origin and the request path reach the server', T, async () => {
      const srv = await wsServer();
      await wskitClient(`${srv.url}/some/path?x=1&y=%20`, [], {
        headers: { 'X-Wskit-Test': 'hello interop', Authorization: 'Bearer abc' },
        origin: 'https://example.test',
      });
      const { req } = await srv.accepted.next();
      assert.equal(req.headers['x-wskit-test'], 'hello interop');
      assert.equal(req.headers.authorization, 'Bearer abc');
      assert.equal(req.headers.origin, 'https://example.test');
      assert.equal(req.url, '/some/path?x=1&y=%20');
      assert.equal(req.headers.host, `127.0.0.1:${srv.port}`);
      assert.equal(req.headers['sec-websocket-version'], '13');
    });

    it('a refusal by the server is a HandshakeError with status and headers', T, async () => {
      const srv = await wsServer({
        verifyClient: (_info, callback) => callback(false, 401, 'Unauthorized', { 'X-Why': 'no' }),
      });
      const { peer, close, opened } = await failingWskit(srv.url);
      assert.equal(opened, false);
      const error = peer.errors[0];
      assert.ok(error instanceof HandshakeError, String(error));
      assert.equal(error.code, 'ERR_WS_HANDSHAKE');
      assert.equal(error.status, 401);
      assert.equal(error.headers?.['x-why'], 'no');
      assert.match(error.message, /401/);
      assert.deepEqual(close, { code: 1006, reason: '', wasClean: false });
      assert.deepEqual(peer.order, ['error', 'close']);
    });

    it('credentials in the URL are sent as Basic authorization', T, async () => {
      const srv = await wsServer();
      await wskitClient(srv.url.replace('ws://', 'ws://us%20er:p%40ss@'));
      const { req } = await srv.accepted.next();
      const [scheme, token] = String(req.headers.authorization).split(' ');
      assert.equal(scheme, 'Basic');
      assert.equal(Buffer.from(token!, 'base64').toString(), 'us er:p@ss');
    });

    it('a ws server with permessage-deflate on agrees with wskit', T, async () => {
      const srv = await wsServer({ perMessageDeflate: true, echo: true });
      const client = await wskitClient(srv.url);
      const { peer, req } = await srv.accepted.next();
      // Whatever wskit offers (nothing, or permessage-deflate), both ends must agree on it.
      const offered = req.headers['sec-websocket-extensions'];
      if (offered === undefined) {
        assert.equal(client.ws.extensions, '');
        assert.equal(peer.sock.extensions, '');
      } else {
        assert.match(offered, /permessage-deflate/);
        assert.equal(peer.sock.extensions, 'permessage-deflate');
        assert.match(client.ws.extensions, /^permessage-deflate\b/);
      }
      const text = asciiText(10_000);
      const data = binaryPayload(100_000);
      client.ws.send(text);
      client.ws.send(data);
      assert.equal(await client.nextText(), text);
      assert.ok((await client.nextBinary()).equals(data));
    });
  });

  describe('ping and pong', () => {
    it('a wskit ping is answered by ws with a pong carrying the same data', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.ws.ping('are you there?');
      client.ws.ping(new Uint8Array([0, 1, 2, 255]));
      client.ws.ping();
      assert.equal((await peer.pings.next()).toString(), 'are you there?');
      assert.equal((await client.pongs.next()).toString(), 'are you there?');
      assert.deepEqual([...(await peer.pings.next())], [0, 1, 2, 255]);
      assert.deepEqual([...(await client.pongs.next())], [0, 1, 2, 255]);
      assert.equal((await peer.pings.next()).length, 0);
      assert.equal((await client.pongs.next()).length, 0);
    });

    it('a ws ping is answered automatically by wskit with the same data', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      const max = Buffer.alloc(125, 0x61);
      peer.sock.ping('hello');
      peer.sock.ping(max);
      assert.equal((await client.pings.next()).toString(), 'hello');
      assert.equal((await peer.pongs.next()).toString(), 'hello');
      assert.ok((await client.pings.next()).equals(max));
      assert.ok((await peer.pongs.next()).equals(max));
    });

    it('an unsolicited wskit pong reaches ws', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.ws.pong('heartbeat');
      assert.equal((await peer.pongs.next()).toString(), 'heartbeat');
    });
  });

  describe('closing', () => {
    it('wskit closes with a code and reason: both ends see them, cleanly', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.ws.close(4001, 'client says bye');
      assert.equal(client.ws.readyState, 2);
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assert.deepEqual(atServer, { code: 4001, reason: 'client says bye', wasClean: true });
      assert.deepEqual(atClient, { code: 4001, reason: 'client says bye', wasClean: true });
      assert.equal(client.ws.readyState, 3);
      assert.deepEqual(client.errors, []);
    });

    it('wskit closes with a 123-byte unicode reason', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      const reason = `${'é'.repeat(59)}🎉a`; // 118 + 4 + 1 = 123 bytes
      assert.equal(Buffer.byteLength(reason), 123);
      client.ws.close(1000, reason);
      const atServer = await peer.closed;
      assert.deepEqual(atServer, { code: 1000, reason, wasClean: true });
      assert.equal((await client.closed).wasClean, true);
    });

    it('wskit closes without a code: both ends see 1005', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.ws.close();
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assert.deepEqual(atServer, { code: 1005, reason: '', wasClean: true });
      assert.deepEqual(atClient, { code: 1005, reason: '', wasClean: true });
    });

    it('ws closes with a code and reason: both ends see the code, cleanly', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      peer.sock.close(4002, 'server says bye');
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assert.deepEqual(atClient, { code: 4002, reason: 'server says bye', wasClean: true });
      assert.equal(atServer.code, 4002);
      assert.equal(atServer.wasClean, true);
      // wskit echoes the code; echoing the reason is optional (RFC 6455 section 5.5.1).
      assert.ok(['', 'server says bye'].includes(atServer.reason), atServer.reason);
      assert.deepEqual(client.errors, []);
    });

    it('ws closes without a code: wskit reports 1005', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      peer.sock.close();
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assert.deepEqual(atClient, { code: 1005, reason: '', wasClean: true });
      assert.deepEqual(atServer, { code: 1005, reason: '', wasClean: true });
    });

    it('a server that closes right after the handshake is seen as a clean close', T, async () => {
      const srv = await wsServer({ onConnection: (sock) => sock.close(1013, 'try again later') });
      const { close, opened, peer } = await failingWskit(srv.url);
      assert.equal(opened, true);
      assert.deepEqual(close, { code: 1013, reason: 'try again later', wasClean: true });
      assert.deepEqual(peer.errors, []);
    });

    it('a server that drops the TCP connection gives 1006, not clean', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      peer.sock.terminate();
      assert.deepEqual(await client.closed, { code: 1006, reason: '', wasClean: false });
    });

    it('messages sent before close() are delivered before the close', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      for (let i = 0; i < 50; i++) client.ws.send(`m${i}`);
      client.ws.close(1000, 'done');
      client.ws.send('after close is discarded');
      const texts = (await peer.messages.take(50)).map((m) => m.data.toString());
      assert.deepEqual(
        texts,
        Array.from({ length: 50 }, (_, i) => `m${i}`),
      );
      assert.equal((await peer.closed).code, 1000);
      assert.equal(peer.messages.length, 0);
    });
  });

  describe('limits and invalid input', () => {
    it('a message over the wskit maxPayload fails with 1009 seen by ws', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url, [], { maxPayload: 1024, binaryType: 'nodebuffer' });
      const { peer } = await srv.accepted.next();
      peer.sock.send(Buffer.alloc(1024, 1)); // exactly the limit: delivered
      peer.sock.send(Buffer.alloc(1025, 2));
      assert.equal((await client.nextBinary()).length, 1024);
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assert.equal(atServer.code, 1009);
      assertProtocolError(client.errors[0], 1009, 'ERR_WS_MESSAGE_TOO_BIG');
      assert.deepEqual(atClient, { code: 1006, reason: '', wasClean: false });
    });

    it('a message over the ws maxPayload: wskit sees 1009', T, async () => {
      const srv = await wsServer({ maxPayload: 1024 });
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.ws.send(Buffer.alloc(1025));
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assert.equal(atClient.code, 1009);
      assert.equal(atClient.wasClean, true);
      assert.equal(
        (peer.errors[0] as NodeJS.ErrnoException).code,
        'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      );
      assert.equal(atServer.code, 1006); // ws stops reading after its error
    });

    it('invalid UTF-8 in a text frame fails with 1007 seen by ws', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      peer.sock.send('valid first');
      assert.equal(await client.nextText(), 'valid first');
      peer.rawSocket.write(rawFrame({ opcode: OP_TEXT, payload: Buffer.from([0x61, 0xc3, 0x28]) }));
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assertProtocolError(client.errors[0], 1007, 'ERR_WS_INVALID_UTF8');
      assert.equal(atServer.code, 1007);
      assert.deepEqual(atClient, { code: 1006, reason: '', wasClean: false });
      assert.equal(client.messages.length, 0);
    });

    it('invalid UTF-8 in the first fragment fails at once with 1007', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      // No final fragment is ever sent: the failure must not wait for the end of the message.
      peer.sock.send(Buffer.from([0x68, 0x69, 0xc0, 0x80]), { binary: false, fin: false });
      const atServer = await peer.closed;
      assert.equal(atServer.code, 1007);
      assertProtocolError(client.errors[0], 1007, 'ERR_WS_INVALID_UTF8');
    });

    it('a text message that ends inside a UTF-8 sequence fails with 1007', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      peer.sock.send(Buffer.from([0x61, 0xe2, 0x82]), { binary: false, fin: false });
      peer.sock.send(Buffer.alloc(0), { binary: false, fin: true });
      const atServer = await peer.closed;
      assert.equal(atServer.code, 1007);
      assertProtocolError(client.errors[0], 1007, 'ERR_WS_INVALID_UTF8');
      assert.equal(client.messages.length, 0);
    });

    it('a masked frame from the server fails with 1002 seen by ws', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      peer.sock.send('masked by a server', { mask: true });
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assert.equal(atServer.code, 1002);
      assertProtocolError(client.errors[0], 1002, 'ERR_WS_PROTOCOL');
      assert.deepEqual(atClient, { code: 1006, reason: '', wasClean: false });
      assert.equal(client.messages.length, 0);
    });

    it('data sent before the server drops the connection is delivered, then 1006', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      peer.sock.send('last words');
      peer.rawSocket.end(); // FIN without a close frame
      assert.equal(await client.nextText(), 'last words');
      assert.deepEqual(await client.closed, { code: 1006, reason: '', wasClean: false });
    });

    it('100 pings interleaved with messages: every pong and message in order', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      for (let i = 0; i < 100; i++) {
        peer.sock.ping(`p${i}`);
        peer.sock.send(`m${i}`);
      }
      const pongs = await peer.pongs.take(100);
      const messages = await client.messages.take(100);
      assert.deepEqual(
        pongs.map((p) => p.toString()),
        Array.from({ length: 100 }, (_, i) => `p${i}`),
      );
      assert.deepEqual(
        messages,
        Array.from({ length: 100 }, (_, i) => `m${i}`),
      );
    });
  });

  describe('fragmentation', () => {
    it('fragmented text and binary messages from ws are reassembled', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url, [], { binaryType: 'nodebuffer' });
      const { peer } = await srv.accepted.next();
      peer.sock.send('Hel', { fin: false });
      peer.sock.send('lo, ', { fin: false });
      peer.sock.send('world', { fin: true });
      const parts = [binaryPayload(70_000), binaryPayload(0), binaryPayload(125)];
      peer.sock.send(parts[0]!, { binary: true, fin: false });
      peer.sock.send(parts[1]!, { binary: true, fin: false });
      peer.sock.send(parts[2]!, { binary: true, fin: true });
      assert.equal(await client.nextText(), 'Hello, world');
      assert.ok((await client.nextBinary()).equals(Buffer.concat(parts)));
    });

    it('a UTF-8 character split across fragments, with a ping in between', T, async () => {
      const srv = await wsServer();
      const client = await wskitClient(srv.url);
      const { peer } = await srv.accepted.next();
      const euro = Buffer.from('€', 'utf8'); // e2 82 ac
      peer.sock.send(Buffer.concat([Buffer.from('price: '), euro.subarray(0, 2)]), {
        binary: false,
        fin: false,
      });
      peer.sock.ping('between fragments');
      peer.sock.send(Buffer.concat([euro.subarray(2), Buffer.from('5 🎉')]), {
        binary: false,
        fin: true,
      });
      assert.equal((await client.pings.next()).toString(), 'between fragments');
      assert.equal(await client.nextText(), 'price: €5 🎉');
      assert.equal((await peer.pongs.next()).toString(), 'between fragments');
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('ws client -> wskit server', () => {
  describe('echo', () => {
    for (const size of SIZES) {
      it(`text message of ${sizeLabel(size)} comes back identical`, T, async () => {
        const srv = await wskitServer({ echo: true });
        const client = await wsClient(srv.url);
        const text = asciiText(size, size + 1);
        client.sock.send(text);
        const echoed = await client.nextText();
        assert.equal(echoed.length, size);
        assert.equal(echoed, text);
      });

      it(`binary message of ${sizeLabel(size)} comes back byte-exact`, T, async () => {
        const srv = await wskitServer({ echo: true });
        const client = await wsClient(srv.url);
        const data = binaryPayload(size);
        client.sock.send(data);
        const echoed = await client.nextBinary();
        assert.equal(echoed.length, size);
        assert.ok(echoed.equals(data), 'echoed bytes differ');
      });
    }

    it('unicode text, short and long', T, async () => {
      const srv = await wskitServer({ echo: true });
      const client = await wsClient(srv.url);
      const long = UNICODE_TEXT.repeat(5000);
      client.sock.send(UNICODE_TEXT);
      client.sock.send(long);
      assert.equal(await client.nextText(), UNICODE_TEXT);
      assert.equal(await client.nextText(), long);
    });

    it('the server sees text as strings and binary as Buffers by default', T, async () => {
      const srv = await wskitServer();
      const client = await wsClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.sock.send(UNICODE_TEXT);
      client.sock.send(Buffer.from([1, 2, 3]));
      assert.equal(await peer.messages.next(), UNICODE_TEXT);
      const binary = await peer.messages.next();
      assert.ok(Buffer.isBuffer(binary));
      assert.deepEqual([...binary], [1, 2, 3]);
    });

    it(`${PIPELINED} pipelined messages come back in order`, T, async () => {
      const srv = await wskitServer({ echo: true });
      const client = await wsClient(srv.url);
      for (let i = 0; i < PIPELINED; i++) {
        if (i % 2 === 0) client.sock.send(`message ${i}`);
        else client.sock.send(Buffer.from(`binary ${i}`));
      }
      const got = await client.messages.take(PIPELINED);
      for (let i = 0; i < PIPELINED; i++) {
        assert.equal(got[i]!.binary, i % 2 === 1, `message ${i}`);
        assert.equal(got[i]!.data.toString(), i % 2 === 0 ? `message ${i}` : `binary ${i}`);
      }
    });

    it(`${PIPELINED} messages the server sends on connection arrive in order`, T, async () => {
      const srv = await wskitServer({
        onConnection: (ws) => {
          for (let i = 0; i < PIPELINED; i++) ws.send(`push ${i}`);
        },
      });
      const client = await wsClient(srv.url);
      const got = await client.messages.take(PIPELINED);
      assert.deepEqual(
        got.map((m) => m.data.toString()),
        Array.from({ length: PIPELINED }, (_, i) => `push ${i}`),
      );
    });

    it('broadcast reaches every ws client, except the excluded one', T, async () => {
      const srv = await wskitServer();
      const clients = [await wsClient(srv.url), await wsClient(srv.url), await wsClient(srv.url)];
      const accepted = await srv.accepted.take(3);
      assert.equal(srv.server.clients.size, 3);
      const big = binaryPayload(100_000);
      assert.equal(srv.server.broadcast('to everyone'), 3);
      assert.equal(srv.server.broadcast(big), 3);
      assert.equal(srv.server.broadcast('as binary', { binary: true }), 3);
      assert.equal(srv.server.broadcast('not to the first', { except: accepted[0]!.peer.ws }), 2);
      for (const [i, client] of clients.entries()) {
        assert.equal(await client.nextText(), 'to everyone');
        assert.ok((await client.nextBinary()).equals(big));
        assert.equal((await client.nextBinary()).toString(), 'as binary');
        if (i > 0) assert.equal(await client.nextText(), 'not to the first');
      }
      clients[0]!.sock.send('sync');
      assert.equal(await accepted[0]!.peer.messages.next(), 'sync');
      assert.equal(clients[0]!.messages.length, 0);
    });

    it('a server-side Blob send keeps its place before later sends and broadcasts', T, async () => {
      const srv = await wskitServer();
      const client = await wsClient(srv.url);
      const { peer } = await srv.accepted.next();
      peer.ws.send(new Blob([Buffer.from('first (a Blob)')]));
      srv.server.broadcast('second (a broadcast)');
      peer.ws.send('third');
      const got = await client.messages.take(3);
      assert.deepEqual(
        got.map((m) => [m.binary, m.data.toString()]),
        [
          [true, 'first (a Blob)'],
          [false, 'second (a broadcast)'],
          [false, 'third'],
        ],
      );
    });
  });

  describe('handshake', () => {
    it('by default the server picks the first offered subprotocol', T, async () => {
      const srv = await wskitServer();
      const client = await wsClient(srv.url, ['chat.v2', 'chat.v1']);
      const { peer } = await srv.accepted.next();
      assert.equal(client.sock.protocol, 'chat.v2');
      assert.equal(peer.ws.protocol, 'chat.v2');
    });

    it('handleProtocols chooses the subprotocol, or none', T, async () => {
      const srv = await wskitServer({
        handleProtocols: (protocols) => (protocols.has('chat.v1') ? 'chat.v1' : false),
      });
      const chosen = await wsClient(srv.url, ['chat.v2', 'chat.v1']);
      assert.equal(chosen.sock.protocol, 'chat.v1');
      assert.equal((await srv.accepted.next()).peer.ws.protocol, 'chat.v1');
      // With none chosen the 101 carries no Sec-WebSocket-Protocol; ws (stricter than
      // RFC 6455 requires) then refuses the connection itself.
      const none = cleanup.terminate(
        new WsClient(srv.url, ['other'], { perMessageDeflate: false }),
      );
      const upgrade = once(none, 'upgrade');
      const failure = once(none, 'error');
      const [response] = (await upgrade) as [IncomingMessage];
      assert.equal(response.statusCode, 101);
      assert.equal(response.headers['sec-websocket-protocol'], undefined);
      const [error] = (await failure) as [Error];
      assert.match(error.message, /no subprotocol/);
    });

    it('custom headers, Origin and the path reach the server', T, async () => {
      const srv = await wskitServer();
      await wsClient(`${srv.url}/room/42?token=abc`, [], {
        headers: { 'X-Ws-Test': 'from ws' },
        origin: 'https://origin.test',
      });
      const { peer, req } = await srv.accepted.next();
      assert.equal(req.headers['x-ws-test'], 'from ws');
      assert.equal(req.headers.origin, 'https://origin.test');
      assert.equal(req.url, '/room/42?token=abc');
      assert.equal(peer.ws.url, `ws://127.0.0.1:${srv.port}/room/42?token=abc`);
    });

    it('noServer: handleUpgrade on an existing HTTP server serves ws clients', T, async () => {
      const http = createHttpServer((_req, res) => res.end('plain http'));
      http.listen(0, '127.0.0.1');
      await once(http, 'listening');
      cleanup.add(
        () =>
          new Promise<void>((resolve) => {
            http.close(() => resolve());
            http.closeAllConnections();
          }),
      );
      const wss = new WebSocketServer({ noServer: true });
      cleanup.add(() => closeWskitServer(wss));
      http.on('upgrade', (req, socket, head) => {
        if (req.url !== '/ws') {
          socket.destroy();
          return;
        }
        wss.handleUpgrade(req, socket as Socket, head, (ws) => {
          ws.addEventListener('message', (event) => ws.send(`echo: ${String(event.data)}`));
        });
      });
      const { port } = http.address() as AddressInfo;
      const client = await wsClient(`ws://127.0.0.1:${port}/ws`);
      client.sock.send('through handleUpgrade');
      assert.equal(await client.nextText(), 'echo: through handleUpgrade');
      assert.equal(wss.address(), null);
      assert.equal(wss.clients.size, 1);
      const response = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(await response.text(), 'plain http');
    });

    it('an unsupported protocol version is refused with 426 and version 13', T, async () => {
      const srv = await wskitServer();
      const sock = cleanup.terminate(
        new WsClient(srv.url, { protocolVersion: 8, perMessageDeflate: false }),
      );
      sock.on('error', () => {});
      const [, response] = (await once(sock, 'unexpected-response')) as [unknown, IncomingMessage];
      response.resume();
      assert.equal(response.statusCode, 426);
      assert.equal(response.headers['sec-websocket-version'], '13');
      assert.equal(srv.accepted.length, 0);
    });

    it('a ws client offering permessage-deflate connects with no extension', T, async () => {
      const srv = await wskitServer({ echo: true });
      const client = await wsClient(srv.url, [], { perMessageDeflate: true });
      const { peer, req } = await srv.accepted.next();
      assert.match(String(req.headers['sec-websocket-extensions']), /permessage-deflate/);
      assert.equal(client.sock.extensions, '');
      assert.equal(peer.ws.extensions, '');
      const text = asciiText(50_000);
      client.sock.send(text);
      assert.equal(await client.nextText(), text);
      const data = binaryPayload(50_000);
      client.sock.send(data);
      assert.ok((await client.nextBinary()).equals(data));
    });

    it('authenticate refusals and a wrong path reach ws as HTTP errors', T, async () => {
      const srv = await wskitServer({
        path: '/ws',
        authenticate: (req) =>
          req.headers.authorization === 'Bearer good'
            ? true
            : { status: 403, body: 'go away', headers: { 'X-Reason': 'token' } },
      });
      const attempt = async (path: string, headers: Record<string, string>) => {
        const sock = cleanup.terminate(
          new WsClient(`${srv.url}${path}`, { headers, perMessageDeflate: false }),
        );
        const statuses = new AsyncQueue<number>();
        sock.on('unexpected-response', (_req, res) => {
          statuses.push(res.statusCode ?? 0);
          res.resume();
          sock.terminate();
        });
        sock.on('error', () => {});
        sock.on('open', () => statuses.push(101));
        return statuses.next();
      };
      assert.equal(await attempt('/ws', { Authorization: 'Bearer bad' }), 403);
      assert.equal(await attempt('/elsewhere', { Authorization: 'Bearer good' }), 400);
      assert.equal(await attempt('/ws?q=1', { Authorization: 'Bearer good' }), 101);
    });
  });

  describe('ping and pong', () => {
    it('a ws ping is answered automatically by the wskit server', T, async () => {
      const srv = await wskitServer();
      const client = await wsClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.sock.ping('ping from ws');
      assert.equal((await client.pongs.next()).toString(), 'ping from ws');
      assert.equal((await peer.pings.next()).toString(), 'ping from ws');
    });

    it('a wskit server ping is answered by ws', T, async () => {
      const srv = await wskitServer();
      const client = await wsClient(srv.url);
      const { peer } = await srv.accepted.next();
      peer.ws.ping(Buffer.alloc(125, 0x7a));
      peer.ws.ping('');
      assert.ok((await client.pings.next()).equals(Buffer.alloc(125, 0x7a)));
      assert.ok((await peer.pongs.next()).equals(Buffer.alloc(125, 0x7a)));
      assert.equal((await peer.pongs.next()).length, 0);
      peer.ws.pong('unsolicited');
      assert.equal((await client.pongs.next()).toString(), 'unsolicited');
    });
  });

  describe('closing', () => {
    it('ws closes with a code and reason: both ends see them, cleanly', T, async () => {
      const srv = await wskitServer();
      const client = await wsClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.sock.close(4010, 'ws client leaves');
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assert.deepEqual(atServer, { code: 4010, reason: 'ws client leaves', wasClean: true });
      assert.equal(atClient.code, 4010);
      assert.equal(atClient.wasClean, true);
      assert.ok(['', 'ws client leaves'].includes(atClient.reason), atClient.reason);
      assert.equal(srv.server.clients.size, 0);
    });

    it('the wskit server closes with a code and reason: both ends see them', T, async () => {
      const srv = await wskitServer();
      const client = await wsClient(srv.url);
      const { peer } = await srv.accepted.next();
      peer.ws.close(4020, 'server done ✓');
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assert.deepEqual(atClient, { code: 4020, reason: 'server done ✓', wasClean: true });
      assert.deepEqual(atServer, { code: 4020, reason: 'server done ✓', wasClean: true });
    });

    it('ws closes without a code: the server sees 1005', T, async () => {
      const srv = await wskitServer();
      const client = await wsClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.sock.close();
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assert.deepEqual(atServer, { code: 1005, reason: '', wasClean: true });
      assert.deepEqual(atClient, { code: 1005, reason: '', wasClean: true });
    });

    it('server.close() closes every client with 1001 and then reports close', T, async () => {
      const srv = await startWskitServer();
      try {
        const clients = [await wsClient(srv.url), await wsClient(srv.url)];
        await srv.accepted.take(2);
        const closed = new Promise<void>((resolve) => srv.server.close(() => resolve()));
        const results = await Promise.all(clients.map((c) => c.closed));
        for (const info of results) {
          assert.equal(info.code, 1001);
          assert.equal(info.wasClean, true);
        }
        await closed;
        assert.equal(srv.server.clients.size, 0);
        // The port no longer accepts connections.
        const late = new WsClient(srv.url, { perMessageDeflate: false });
        const [error] = (await once(late, 'error')) as [NodeJS.ErrnoException];
        assert.equal(error.code, 'ECONNREFUSED');
      } finally {
        await srv.close();
      }
    });

    it('a ws client that drops the connection gives 1006 at the server', T, async () => {
      const srv = await wskitServer();
      const client = await wsClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.sock.terminate();
      assert.deepEqual(await peer.closed, { code: 1006, reason: '', wasClean: false });
    });
  });

  describe('limits and invalid input', () => {
    it('a message over the server maxPayload fails with 1009 seen by ws', T, async () => {
      const srv = await wskitServer({ maxPayload: 1024 });
      const client = await wsClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.sock.send(Buffer.alloc(1024));
      assert.equal(((await peer.messages.next()) as Buffer).length, 1024);
      client.sock.send('x'.repeat(1025));
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assert.equal(atClient.code, 1009);
      assertProtocolError(peer.errors[0], 1009, 'ERR_WS_MESSAGE_TOO_BIG');
      assert.deepEqual(atServer, { code: 1006, reason: '', wasClean: false });
    });

    it('a fragmented message over maxPayload in total fails with 1009', T, async () => {
      const srv = await wskitServer({ maxPayload: 1000 });
      const client = await wsClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.sock.send(Buffer.alloc(600), { binary: true, fin: false });
      client.sock.send(Buffer.alloc(600), { binary: true, fin: true });
      assert.equal((await client.closed).code, 1009);
      assertProtocolError(peer.errors[0], 1009, 'ERR_WS_MESSAGE_TOO_BIG');
    });

    it('a wskit message over the ws client maxPayload: the server sees 1009', T, async () => {
      const srv = await wskitServer();
      const client = await wsClient(srv.url, [], { maxPayload: 1024 });
      const { peer } = await srv.accepted.next();
      peer.ws.send(Buffer.alloc(1025));
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assert.equal(
        (client.errors[0] as NodeJS.ErrnoException).code,
        'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      );
      assert.equal(atServer.code, 1009);
      assert.equal(atServer.wasClean, true);
      assert.equal(atClient.code, 1006);
    });

    it('invalid UTF-8 from a ws client fails with 1007 seen by ws', T, async () => {
      const srv = await wskitServer();
      const client = await wsClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.rawSocket.write(
        rawFrame({ opcode: OP_TEXT, payload: Buffer.from([0xed, 0xa0, 0x80]), mask: true }),
      );
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assert.equal(atClient.code, 1007);
      assertProtocolError(peer.errors[0], 1007, 'ERR_WS_INVALID_UTF8');
      assert.deepEqual(atServer, { code: 1006, reason: '', wasClean: false });
      assert.equal(peer.messages.length, 0);
    });

    it('an unmasked frame from a ws client fails with 1002 seen by ws', T, async () => {
      const srv = await wskitServer();
      const client = await wsClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.sock.send('not masked', { mask: false });
      const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
      assert.equal(atClient.code, 1002);
      assertProtocolError(peer.errors[0], 1002, 'ERR_WS_PROTOCOL');
      assert.deepEqual(atServer, { code: 1006, reason: '', wasClean: false });
      assert.equal(peer.messages.length, 0);
    });

    it('a close frame with a reserved code (1005 on the wire) fails with 1002', T, async () => {
      const srv = await wskitServer();
      const client = await wsClient(srv.url);
      const { peer } = await srv.accepted.next();
      client.rawSocket.write(
        rawFrame({ opcode: OP_CLOSE, payload: Buffer.from([0x03, 0xed]), mask: true }),
      );
      const atClient = await client.closed;
      assert.equal(atClient.code, 1002);
      assertProtocolError(peer.errors[0], 1002, 'ERR_WS_PROTOCOL');
      assert.equal((await peer.closed).code, 1006);
    });
  });

  describe('fragmentation', () => {
    it('fragmented messages from a ws client are reassembled', T, async () => {
      const srv = await wskitServer();
      const client = await wsClient(srv.url);
      const { peer } = await srv.accepted.next();
      const snowman = Buffer.from('☃', 'utf8');
      client.sock.send(Buffer.concat([Buffer.from('snow'), snowman.subarray(0, 1)]), {
        binary: false,
        fin: false,
      });
      client.sock.ping('in the middle');
      client.sock.send(snowman.subarray(1, 2), { binary: false, fin: false });
      client.sock.send(Buffer.concat([snowman.subarray(2), Buffer.from('man')]), {
        binary: false,
        fin: true,
      });
      const parts = [binaryPayload(1), binaryPayload(200_000), binaryPayload(3)];
      for (const [i, part] of parts.entries()) {
        client.sock.send(part, { binary: true, fin: i === parts.length - 1 });
      }
      assert.equal((await peer.pings.next()).toString(), 'in the middle');
      assert.equal(await peer.messages.next(), 'snow☃man');
      const binary = await peer.messages.next();
      assert.ok(Buffer.isBuffer(binary) && binary.equals(Buffer.concat(parts)));
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('raw TCP client -> wskit server', () => {
  it('a browser-style request with a frame in the same packet is served', T, async () => {
    const srv = await wskitServer({ echo: true });
    const socket = connect(srv.port, '127.0.0.1');
    cleanup.add(() => socket.destroy());
    socket.on('error', () => {});
    await once(socket, 'connect');
    const request = [
      'GET /raw HTTP/1.1',
      `Host: 127.0.0.1:${srv.port}`,
      'Upgrade: WebSocket', // header values as browsers send them
      'Connection: keep-alive, Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n');
    const frame = rawFrame({ opcode: OP_TEXT, payload: Buffer.from('pipelined ✓'), mask: true });
    socket.write(Buffer.concat([Buffer.from(request), frame]));
    const { peer } = await srv.accepted.next();
    assert.equal(await peer.messages.next(), 'pipelined ✓');
    // The 101 answer (with the accept value of the RFC 6455 section 1.3 example) and the echo.
    const echo = rawFrame({ opcode: OP_TEXT, payload: Buffer.from('pipelined ✓') });
    let received = Buffer.alloc(0);
    while (!received.subarray(-echo.length).equals(echo)) {
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      received = Buffer.concat([received, chunk]);
    }
    const head = received.subarray(0, received.indexOf('\r\n\r\n')).toString('latin1');
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
  });
});
