// Child process of the echo benchmark. Arguments:
//   pair <client kind> <server kind>   server and client in this one process
//   server <kind>                      only the server (split placement)
//   client <kind>                      only the client (split placement)
// It sends { ready, port? } once listening, then answers the parent's requests:
//   { cmd: 'echo', port?, ...job }  one measurement (lib/endpoints.mjs: runEchoClient), answered
//                                   with { seconds, cpu }; `port` defaults to the local server
//   { cmd: 'cpu' }                  this process's process.cpuUsage()
// A socket error on the server side is reported as { error } (an echo server should see none).
import { runEchoClient, startEchoServer } from './lib/endpoints.mjs';

const [mode, first, second] = process.argv.slice(2);
const clientKind = mode === 'server' ? null : first;
const serverKind = mode === 'pair' ? second : mode === 'server' ? first : null;
const reportError = (error) =>
  process.send?.({ error: `${serverKind} server: ${error?.stack ?? error}` });

const handlers = {
  cpu: async () => ({ cpu: process.cpuUsage() }),
  echo: async (job) => {
    if (!clientKind) throw new Error('this child has no client');
    return runEchoClient(clientKind, { ...job, port: job.port ?? localPort });
  },
};

let localPort;
if (serverKind) localPort = (await startEchoServer(serverKind, reportError)).port;
process.on('message', async (request) => {
  try {
    const answer = await handlers[request.cmd](request);
    process.send({ id: request.id, ok: true, ...answer });
  } catch (error) {
    process.send({ id: request.id, ok: false, error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, port: localPort });
