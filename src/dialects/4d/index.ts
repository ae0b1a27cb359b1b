/** The 4D dialect, platform-independent: entry points bind it to a socket factory. */
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
