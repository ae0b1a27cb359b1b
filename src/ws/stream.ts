import type { Buffer } from 'node:buffer';
import { Duplex, type DuplexOptions } from 'node:stream';
import type { RawData, WebSocket } from './websocket.js';

/**
 * `ws`'s `createWebSocketStream`: a `Duplex` over a `wskit/ws` socket. Each written chunk is
 * sent as one message; each message is pushed as one chunk (text as a string in object mode).
 * Reading pauses the socket while the readable side is full; ending the writable side closes
 * the connection; destroying the stream terminates it.
 */
export function createWebSocketStream(ws: WebSocket, options?: DuplexOptions): Duplex {
  let terminateOnDestroy = true;
  const duplex: Duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
    read() {
      if (ws.isPaused) ws.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (ws.readyState === ws.CONNECTING) {
        ws.once('open', () => ws.send(chunk, callback));
        return;
      }
      ws.send(chunk, callback);
    },
    final(callback) {
      finish(callback);
    },
    destroy(error, callback) {
      if (ws.readyState === ws.CLOSED) {
        callback(error);
        process.nextTick(() => duplex.emit('close'));
        return;
      }
      let reported = false;
      ws.once('error', (e: Error) => {
        reported = true;
        callback(e);
      });
      ws.once('close', () => {
        if (!reported) callback(error);
        process.nextTick(() => duplex.emit('close'));
      });
      if (terminateOnDestroy) ws.terminate();
    },
  });

  function finish(callback: (error?: Error | null) => void): void {
    if (ws.readyState === ws.CONNECTING) {
      ws.once('open', () => finish(callback));
      return;
    }
    // Closed before it opened: nothing to end.
    const socket = ws._socket;
    if (socket === null) return;
    if (socket.writableFinished) {
      callback();
      if (duplex.readableEnded) duplex.destroy();
      return;
    }
    socket.once('finish', () => callback());
    ws.close();
  }

  ws.on('message', (message: RawData, isBinary: boolean) => {
    const data = !isBinary && duplex.readableObjectMode ? String(message) : message;
    if (!duplex.push(data)) ws.pause();
  });
  ws.once('error', (error: Error) => {
    if (duplex.destroyed) return;
    // The socket is already failing; destroying the stream must not terminate it twice.
    terminateOnDestroy = false;
    duplex.destroy(error);
  });
  ws.once('close', () => {
    if (duplex.destroyed) return;
    duplex.push(null);
  });
  duplex.on('end', () => {
    if (!duplex.destroyed && duplex.writableFinished) duplex.destroy();
  });
  const onError = (error: Error) => {
    duplex.removeListener('error', onError);
    duplex.destroy();
    if (duplex.listenerCount('error') === 0) duplex.emit('error', error);
  };
  duplex.on('error', onError);
  return duplex;
}
