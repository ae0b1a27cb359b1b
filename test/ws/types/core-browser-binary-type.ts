// wskit's WebSocket in browsers (the "browser" condition): message data is typed by binaryType
// as in Node, with the two binary types of browsers. Every @ts-expect-error must meet an error.
import {
  type BrowserBinaryType,
  type BrowserMessageData,
  type ErrorEvent,
  WebSocket,
  type WebSocketError,
} from 'wskit';

/** Compiles only when `T` and `U` are the same type. */
type Same<T, U> = [T] extends [U] ? ([U] extends [T] ? true : false) : false;
function same<T, U>(proof: Same<T, U>): Same<T, U> {
  return proof;
}

const plain = new WebSocket('wss://example.com/feed');
same<typeof plain, WebSocket<BrowserBinaryType>>(true);
plain.binaryType = 'arraybuffer';
plain.binaryType = 'blob';
plain.onmessage = (event) => {
  same<typeof event.data, string | Blob | ArrayBuffer>(true);
};
// @ts-expect-error browsers have no "nodebuffer"
plain.binaryType = 'nodebuffer';

const ab = new WebSocket('wss://example.com/feed', [], { binaryType: 'arraybuffer' });
same<typeof ab, WebSocket<'arraybuffer'>>(true);
ab.addEventListener('message', (event) => {
  same<typeof event.data, string | ArrayBuffer>(true);
});
// @ts-expect-error the setter keeps an explicitly typed socket's binary type
ab.binaryType = 'blob';

function anySocket(ws: WebSocket): BrowserBinaryType {
  return ws.binaryType;
}
anySocket(ab);

plain.onerror = (event) => {
  same<typeof event, ErrorEvent<WebSocketError>>(true);
};

export async function iterate(): Promise<void> {
  const ws = await WebSocket.connect('wss://example.com/feed', { binaryType: 'arraybuffer' });
  for await (const data of ws) same<typeof data, BrowserMessageData<'arraybuffer'>>(true);
  for await (const data of plain) same<typeof data, string | Blob | ArrayBuffer>(true);
}
