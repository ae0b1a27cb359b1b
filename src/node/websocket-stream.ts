import { Buffer } from 'node:buffer';
import { Duplex, type DuplexOptions } from 'node:stream';
import { ConnectionError } from '../errors.js';
import type { CloseEvent, ErrorEvent, MessageEvent } from '../web/events.js';
import { kConnection, kReadWhileClosing, WebSocket } from './websocket.js';

export interface WebSocketStreamOptions extends DuplexOptions {
  /** Send written chunks as text messages instead of binary ones (default false). */
  text?: boolean;
}

/**
 * A Node `Duplex` over a WebSocket (Node extension): each written chunk is sent as one message;
 * each received message is pushed as one chunk (`Buffer`, or a string for text messages when
 * the stream is in object mode). Backpressure works both ways: writing waits while the socket's
 * buffer is above the stream's high-water mark, and reading pauses the socket while the
 * readable side is full. Ending the writable side closes the connection with 1000.
 */
export function createWebSocketStream(ws: WebSocket, options: WebSocketStreamOptions = {}): Duplex {
  const { text = false, ...duplexOptions } = options;
  let reading = true;
  const stream: Duplex = new Duplex({
    ...duplexOptions,
    allowHalfOpen: false,
    read() {
      if (!reading) {
        reading = true;
        ws.resume();
      }
    },
    write(chunk: Buffer | string, encoding, callback) {
      const send = () => {
        try {
          if (text) ws.send(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
          else ws.send(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk);
        } catch (error) {
          callback(error as Error);
          return;
        }
        const connection = ws[kConnection];
        if (connection && ws.bufferedAmount > stream.writableHighWaterMark)
          connection.onDrain(() => callback());
        else callback();
      };
      if (ws.readyState === WebSocket.CONNECTING) {
        ws.addEventListener('open', send, { once: true });
        return;
      }
      send();
    },
    final(callback) {
      if (ws.readyState === WebSocket.CONNECTING) {
        ws.addEventListener('open', () => ws.close(1000), { once: true });
      } else if (ws.readyState === WebSocket.OPEN) {
        ws.close(1000);
      }
      callback();
    },
    destroy(error, callback) {
      if (ws.readyState !== WebSocket.CLOSED) {
        if (error) ws.terminate();
        else if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      }
      callback(error);
    },
  });

  const onMessage = (event: MessageEvent) => {
    const data = event.data;
    const chunk = typeof data === 'string' && !stream.readableObjectMode ? Buffer.from(data) : data;
    if (!stream.push(chunk) && reading) {
      reading = false;
      ws.pause();
    }
  };
  let failure: Error | undefined;
  const onError = (event: ErrorEvent) => {
    failure =
      event.error instanceof Error
        ? event.error
        : new ConnectionError('ERR_WS_UNKNOWN', event.message);
  };
  const onClose = (event: CloseEvent) => {
    if (ws.readyState !== WebSocket.CLOSED) return;
    ws.removeEventListener('message', onMessage);
    ws.removeEventListener('error', onError);
    ws.removeEventListener('close', onClose);
    if (failure) stream.destroy(failure);
    else if (!event.wasClean && event.code === 1006) {
      stream.destroy(
        new ConnectionError(
          'ERR_WS_CONNECTION_CLOSED',
          'the connection closed without a closing handshake (1006)',
        ),
      );
    } else stream.push(null);
  };
  if (ws.binaryType === 'blob') ws.binaryType = 'nodebuffer';
  // Ending the writable side closes the connection; what the peer still sends is read.
  ws[kReadWhileClosing] = true;
  ws.addEventListener('message', onMessage);
  ws.addEventListener('error', onError);
  ws.addEventListener('close', onClose);
  return stream;
}
