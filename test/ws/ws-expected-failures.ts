/**
 * The tests of ws's own suite (../shared/peers/ws) that wskit/ws fails, each with the reason.
 * Most check an internal of ws: an object from ws's `lib/` (whose identity no other module can
 * share), a private field, or ws's private symbols. The rest are deliberate differences.
 */

const EMPTY_BUFFER =
  "compares the close reason with ws's own EMPTY_BUFFER constant by identity (an equal empty Buffer is given)";
const EVENT_CLASS = "checks `instanceof` against the event classes of ws's lib/event-target.js";
const K_LISTENER =
  "reads the wrapped listener through ws's private kListener symbol from lib/constants.js";
const RECEIVER = "reaches into ws's private Receiver or Sender (`ws._receiver`, `ws._sender`)";
const LIMIT_OPTIONS =
  'passes maxBufferedChunks / maxFragments, which wskit/ws refuses with a TypeError: incoming data is bounded by maxPayload and the option would otherwise be ignored';

/** Full mocha titles of expected failures, with why. */
export const EXPECTED_FAILURES: Readonly<Record<string, string>> = {
  'WebSocket #ctor options accepts the receiver limit options': LIMIT_OPTIONS,
  'WebSocketServer #ctor options accepts the receiver limit options': LIMIT_OPTIONS,
  'WebSocket #ctor options honors the `generateMask` option':
    'generateMask is refused with a TypeError: wskit masks every frame with keys from its own random pool',
  'WebSocket #send honors the `mask` option':
    'sends an unmasked client frame on purpose; wskit/ws refuses `mask: false` on a client (RFC 6455 section 5.3)',
  'WebSocketServer permessage-deflate uses configuration options':
    'clientMaxWindowBits: 8 is refused with a RangeError: zlib widens a raw 8-bit window to 9, so wskit does not negotiate 8',
  "WebSocket Events emits an 'error' event if an error occurs (1/2)": EMPTY_BUFFER,
  'WebSocket Events does not re-emit `net.Socket` errors': EMPTY_BUFFER,
  'WebSocket Connection establishing close event is raised when server closes connection':
    EMPTY_BUFFER,
  'WebSocket #send works when the `data` argument is falsy': EMPTY_BUFFER,
  'WebSocket #close sends the close status code only when necessary': EMPTY_BUFFER,
  'WebSocket Connection close closes cleanly after simultaneous errors (1/2)': EMPTY_BUFFER,
  'WebSocket Connection close closes cleanly after simultaneous errors (2/2)': EMPTY_BUFFER,
  'WebSocket Connection close resumes the socket when an error occurs': EMPTY_BUFFER,
  'WebSocket Connection close resumes the socket when the close frame is received': EMPTY_BUFFER,
  'createWebSocketStream The returned stream buffers writes if `readyState` is `CONNECTING`':
    EMPTY_BUFFER,
  "WebSocket Events emits the 'error' event only once (2/2)":
    "wskit's engine checks each frame header as it arrives, also behind messages still being decompressed, so the broken frame's error comes before the Blob's read error that ws reports first",
  "WebSocket WHATWG API emulation doesn't remove listeners added with `on`": K_LISTENER,
  'WebSocket WHATWG API emulation supports the `addEventListener` method': K_LISTENER,
  "WebSocket WHATWG API emulation doesn't return listeners added with `addEventListener`":
    K_LISTENER,
  "WebSocket WHATWG API emulation doesn't remove listeners added with `addEventListener`":
    K_LISTENER,
  'WebSocket WHATWG API emulation supports the `removeEventListener` method': K_LISTENER,
  'WebSocket WHATWG API emulation wraps text data in a `MessageEvent`': EVENT_CLASS,
  'WebSocket WHATWG API emulation receives a `CloseEvent` when server closes (1000)': EVENT_CLASS,
  'WebSocket WHATWG API emulation receives a `CloseEvent` when server closes (4000)': EVENT_CLASS,
  'WebSocket WHATWG API emulation sets `target` and `type` on events': EVENT_CLASS,
  'WebSocket permessage-deflate consumes all received data when connection is closed (1/2)':
    RECEIVER,
  'WebSocket permessage-deflate consumes all received data when connection is closed (2/2)':
    RECEIVER,
  'WebSocket permessage-deflate handles a close frame received while compressing data': RECEIVER,
  'WebSocket permessage-deflate #close can be used while data is being decompressed': RECEIVER,
  'WebSocket permessage-deflate #terminate can be used while data is being decompressed': RECEIVER,
  'createWebSocketStream The returned stream errors if a write occurs when `readyState` is `CLOSING`':
    RECEIVER,
  'createWebSocketStream The returned stream handles backpressure (2/3)': RECEIVER,
  'createWebSocketStream The returned stream handles backpressure (3/3)': RECEIVER,
  'createWebSocketStream is exposed as a property of the `WebSocket` class':
    "compares with ws's own lib/stream.js function by identity (wskit/ws has its own createWebSocketStream)",
  'WebSocket #close sets a timer for the closing handshake to complete':
    "expects the server's answering close frame to repeat the client's reason; wskit's engine echoes the code only (RFC 6455 section 5.5.1)",
  'createWebSocketStream The returned stream reemits errors':
    "expects an empty close reason; wskit's engine says why in the close frame it fails a connection with ('protocol error')",
  'createWebSocketStream The returned stream does not swallow errors that may occur while destroying':
    "expects zlib's own error (Z_DATA_ERROR); wskit reports invalid compressed data as a protocol error with close code 1007",
};
