// Child process of the echo benchmark. Arguments:
//   pair <client kind> <server kind> [deflate]   server and client in this one process
//   server <kind> [deflate]                      only the server (split placement)
//   client <kind> [deflate]                      only the client (split placement)
// `deflate`: both ends use permessage-deflate (lib/endpoints.mjs: DEFLATE) and insist on it.
// It sends { ready, port?, bufferutil } once listening (bufferutil: whether ws masks natively), then answers the parent's requests:
//   { cmd: 'echo', port?, ...job }  one measurement (lib/endpoints.mjs: runEchoClient), answered
//                                   with { seconds, cpu, extensions }; `port` defaults to the
//                                   local server
//   { cmd: 'cpu' }                  this process's process.cpuUsage()
//   { cmd: 'connection' }           the server's last connection: { connection: { extensions,
//                                   bytesRead, bytesWritten } or null }
// A socket error on the server side is reported as { error } (an echo server should see none).
import { serveParent } from './lib/child-side.mjs';
import { runEchoClient, startEchoServer, wsUsesBufferutil } from './lib/endpoints.mjs';
import { importWskitModule } from './lib/wskit.mjs';

const [mode, first, ...rest] = process.argv.slice(2);
const deflate = rest.includes('deflate');
const second = rest.find((a) => a !== 'deflate');
const clientKind = mode === 'server' ? null : first;
const serverKind = mode === 'pair' ? second : mode === 'server' ? first : null;
const reportError = (error) =>
  process.send?.({ error: `${serverKind} server: ${error?.stack ?? error}` });

let server = null;
const handlers = {
  cpu: async () => ({ cpu: process.cpuUsage() }),
  echo: async (job) => {
    if (!clientKind) throw new Error('this child has no client');
    return runEchoClient(clientKind, { ...job, port: job.port ?? server.port, deflate });
  },
  connection: async () => {
    if (!server) throw new Error('this child has no server');
    return { connection: server.lastConnection() };
  },
};

async function setup() {
  if (serverKind) server = await startEchoServer(serverKind, reportError, { deflate });
  // Whether wskit's Node platform masks with bufferutil here (it loads it when installed).
  const wskitBufferutil = await (await importWskitModule('node/node-platform.js')).bufferutilReady;
  return {
    handlers,
    ready: { port: server?.port, bufferutil: wsUsesBufferutil(), wskitBufferutil },
  };
}

serveParent(`echo ${mode} ${first} ${rest.join(' ')}`.trim(), setup());
