/**
 * Interoperability with the Python `websockets` library (Debian's python3-websockets, run with
 * /usr/bin/python3): a wskit client against a Python echo server, and a Python client against
 * a wskit server. Skipped, with the reason, when the module is not installed.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, afterEach, before, describe, it } from 'node:test';
import { ProtocolError } from '../../src/index.js';
import {
  asciiText,
  binaryPayload,
  Cleanup,
  connectWskit,
  SIZES,
  sizeLabel,
  startWskitServer,
  T,
  UNICODE_TEXT,
  type WskitPeer,
} from './helpers/peers.js';
import {
  type PythonConnectionReport,
  type PythonServer,
  probePythonWebsockets,
  runPythonClient,
  startPythonServer,
} from './helpers/python.js';

const probe = probePythonWebsockets();
const skip = 'skip' in probe ? probe.skip : false;
if (skip) console.warn(`python interop tests skipped: ${skip}`);

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

let unique = 0;
/** A request path no other test uses, to find this connection's report from the server. */
function uniquePath(): string {
  unique += 1;
  return `/t${unique}`;
}

/** Reports of a Python server, looked up by request path whatever order they arrive in. */
class ReportBook {
  private readonly seen = new Map<string, PythonConnectionReport>();
  constructor(private readonly server: PythonServer) {}

  async for(path: string): Promise<PythonConnectionReport> {
    for (;;) {
      const known = this.seen.get(path);
      if (known) return known;
      const report = await this.server.reports.next();
      this.seen.set(report.path, report);
    }
  }
}

async function wskitClient(...args: Parameters<typeof connectWskit>): Promise<WskitPeer> {
  const peer = await connectWskit(...args);
  cleanup.terminate(peer.ws);
  return peer;
}

describe('wskit client -> Python websockets server', { skip }, () => {
  let py: PythonServer;
  let book: ReportBook;

  before(async () => {
    py = await startPythonServer(['--subprotocol', 'chat', '--subprotocol', 'superchat']);
    book = new ReportBook(py);
  });
  after(() => py?.stop());

  for (const size of SIZES) {
    it(`text and binary messages of ${sizeLabel(size)} come back identical`, T, async () => {
      const client = await wskitClient(py.url, [], { binaryType: 'nodebuffer' });
      const text = asciiText(size, 3);
      const data = binaryPayload(size);
      client.ws.send(text);
      client.ws.send(data);
      assert.equal(await client.nextText(), text);
      const echoed = await client.nextBinary();
      assert.equal(echoed.length, size);
      assert.ok(echoed.equals(data), 'echoed bytes differ');
    });
  }

  it('unicode text, short and long', T, async () => {
    const client = await wskitClient(py.url);
    const long = UNICODE_TEXT.repeat(3000);
    client.ws.send(UNICODE_TEXT);
    client.ws.send(long);
    assert.equal(await client.nextText(), UNICODE_TEXT);
    assert.equal(await client.nextText(), long);
  });

  it('1000 pipelined messages come back in order', T, async () => {
    const client = await wskitClient(py.url, [], { binaryType: 'arraybuffer' });
    for (let i = 0; i < 1000; i++) {
      client.ws.send(i % 2 === 0 ? `message ${i}` : Buffer.from(`binary ${i}`));
    }
    const got = await client.messages.take(1000);
    for (let i = 0; i < 1000; i++) {
      const m = got[i];
      if (i % 2 === 0) assert.equal(m, `message ${i}`);
      else {
        assert.ok(m instanceof ArrayBuffer, `message ${i} is not an ArrayBuffer`);
        assert.equal(Buffer.from(m).toString(), `binary ${i}`);
      }
    }
  });

  it('subprotocol, path and a custom header are seen by the server', T, async () => {
    const path = uniquePath();
    const client = await wskitClient(`${py.url}${path}?q=1`, ['unknown', 'superchat'], {
      headers: { 'X-Interop': 'from wskit' },
    });
    assert.equal(client.ws.protocol, 'superchat');
    client.ws.close(1000);
    await client.closed;
    const report = await book.for(`${path}?q=1`);
    assert.equal(report.subprotocol, 'superchat');
    assert.equal(report.header, 'from wskit');
    assert.equal(report.error, null);
  });

  it('a wskit close code and reason reach Python; the close is clean', T, async () => {
    const path = uniquePath();
    const client = await wskitClient(`${py.url}${path}`);
    client.ws.close(4001, 'bye from wskit ✓');
    assert.deepEqual(await client.closed, {
      code: 4001,
      reason: 'bye from wskit ✓',
      wasClean: true,
    });
    const report = await book.for(path);
    assert.equal(report.close_code, 4001);
    assert.equal(report.close_reason, 'bye from wskit ✓');
  });

  it('a close started by Python reaches wskit with its code and reason', T, async () => {
    const path = uniquePath();
    const client = await wskitClient(`${py.url}${path}`);
    client.ws.send('cmd:close:4002:python says bye');
    assert.deepEqual(await client.closed, {
      code: 4002,
      reason: 'python says bye',
      wasClean: true,
    });
    assert.deepEqual(client.errors, []);
    const report = await book.for(path);
    assert.equal(report.close_code, 4002); // wskit's echo
  });

  it('Python pings are answered by wskit; wskit pings are answered by Python', T, async () => {
    const client = await wskitClient(py.url);
    client.ws.send('cmd:ping:hello python');
    assert.equal((await client.pings.next()).toString(), 'hello python');
    assert.equal(await client.nextText(), 'pong:hello python');
    client.ws.ping('from wskit');
    assert.equal((await client.pongs.next()).toString(), 'from wskit');
  });

  it('fragmented messages from Python are reassembled', T, async () => {
    const client = await wskitClient(py.url, [], { binaryType: 'nodebuffer' });
    client.ws.send('cmd:frag');
    assert.equal(await client.nextText(), 'fragmented ☃ text');
    assert.deepEqual([...(await client.nextBinary())], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a message over the wskit maxPayload fails with 1009 seen by Python', T, async () => {
    const path = uniquePath();
    const client = await wskitClient(`${py.url}${path}`, [], { maxPayload: 1024 });
    client.ws.send('cmd:big:1025');
    const close = await client.closed;
    assert.ok(client.errors[0] instanceof ProtocolError);
    assert.equal(client.errors[0].code, 'ERR_WS_MESSAGE_TOO_BIG');
    assert.deepEqual(close, { code: 1006, reason: '', wasClean: false });
    assert.equal((await book.for(path)).close_code, 1009);
  });

  it('a message over the Python max_size: wskit sees 1009', T, async () => {
    const small = await startPythonServer(['--max-size', '1024']);
    try {
      const client = await wskitClient(small.url);
      client.ws.send(Buffer.alloc(1024));
      assert.equal((await client.nextBinary()).length, 1024);
      client.ws.send(Buffer.alloc(1025));
      const close = await client.closed;
      assert.equal(close.code, 1009);
      assert.equal(close.wasClean, true);
    } finally {
      await small.stop();
    }
  });
});

describe('Python websockets client -> wskit server', { skip }, () => {
  const sizes = SIZES.join(',');

  it('echoes text and binary of every size, unicode, and 1000 in order', T, async () => {
    const srv = await startWskitServer({ echo: true });
    try {
      const summary = await runPythonClient(srv.url, [
        '--sizes',
        sizes,
        '--unicode',
        '--count',
        '1000',
      ]);
      assert.deepEqual(summary.failures, []);
      assert.equal(summary.error, null);
      assert.equal(summary.echoed, SIZES.length * 2 + 1);
      assert.equal(summary.pipelined, 1000);
      assert.equal(summary.ok, true);
    } finally {
      await srv.close();
    }
  });

  it('subprotocol, header, ping and a fragmented message', T, async () => {
    const srv = await startWskitServer({ echo: true });
    try {
      const summary = await runPythonClient(`${srv.url}/py?x=1`, [
        '--subprotocol',
        'chat',
        '--header',
        'X-From-Python:yes',
        '--ping',
        '--fragmented',
      ]);
      assert.equal(summary.error, null);
      assert.equal(summary.subprotocol, 'chat');
      assert.equal(summary.ping, true);
      assert.equal(summary.fragmented, 'fragmented ☃');
      const { peer, req } = await srv.accepted.next();
      assert.equal(req.headers['x-from-python'], 'yes');
      assert.equal(req.url, '/py?x=1');
      assert.equal(peer.ws.protocol, 'chat');
      assert.equal((await peer.pings.next()).toString(), 'py-ping');
    } finally {
      await srv.close();
    }
  });

  it('a Python close code and reason reach wskit; the close is clean', T, async () => {
    const srv = await startWskitServer();
    try {
      const summary = await runPythonClient(srv.url, [
        '--close-code',
        '4005',
        '--close-reason',
        'python leaves ✓',
      ]);
      const { peer } = await srv.accepted.next();
      assert.deepEqual(await peer.closed, {
        code: 4005,
        reason: 'python leaves ✓',
        wasClean: true,
      });
      assert.equal(summary.error, null);
      assert.equal(summary.close_code, 4005); // wskit's echo
    } finally {
      await srv.close();
    }
  });

  it('a close started by the wskit server reaches Python', T, async () => {
    const srv = await startWskitServer({
      onConnection: (ws) =>
        ws.addEventListener('message', () => ws.close(4100, 'wskit server bye')),
    });
    try {
      const summary = await runPythonClient(srv.url, ['--await-close', 'close me']);
      assert.equal(summary.error, null);
      assert.equal(summary.close_code, 4100);
      assert.equal(summary.close_reason, 'wskit server bye');
      const { peer } = await srv.accepted.next();
      const close = await peer.closed;
      assert.equal(close.code, 4100);
      assert.equal(close.wasClean, true);
    } finally {
      await srv.close();
    }
  });

  it('a Python message over the server maxPayload fails with 1009', T, async () => {
    const srv = await startWskitServer({ echo: true, maxPayload: 1024 });
    try {
      const summary = await runPythonClient(srv.url, ['--sizes', '1024,1025']);
      assert.equal(summary.echoed, 2); // text and binary of 1024 bytes
      assert.match(String(summary.error), /ConnectionClosed/);
      assert.equal(summary.close_code, 1009);
      const { peer } = await srv.accepted.next();
      await peer.closed;
      assert.ok(peer.errors[0] instanceof ProtocolError);
      assert.equal(peer.errors[0].code, 'ERR_WS_MESSAGE_TOO_BIG');
    } finally {
      await srv.close();
    }
  });
});
