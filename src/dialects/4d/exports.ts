/** What both bindings of the 4D dialect export besides their `WebSocket` class. */
export {
  COMPONENT_SIGNATURE,
  type FourDError,
  FourDErrorCode,
  type FourDErrorCodeNumber,
} from './errors.js';
export {
  type FourDConnectionHandler,
  type FourDDataType,
  type FourDErrorEvent,
  type FourDMessage,
  type FourDMessageEvent,
  type FourDOpenEvent,
  type FourDStatus,
  type FourDTerminateEvent,
  FourDWebSocketBase,
} from './websocket.js';
