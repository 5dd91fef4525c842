/**
 * @warren/stomp — STOMP 1.0/1.1/1.2. For now the frame codec: an incremental parser and a serializer that
 * sessions, the TCP listener and the WebSocket transport build on.
 */
export {
  ClientCommand,
  ServerCommand,
  STOMP_VERSIONS,
  HEARTBEAT,
  FRAME_END,
  EMPTY_BODY,
  isClientCommand,
  isServerCommand,
  isEscapeExempt,
  type StompFrame,
  type StompHeaders,
  type StompHeaderInput,
  type StompVersion,
} from './codec/frame';
export { StompProtocolError, type StompErrorReason } from './codec/protocol-error';
export { escapeHeader, unescapeHeader } from './codec/escape';
export {
  StompParser,
  type StompParserHandler,
  type StompParserLimits,
  type StompParserOptions,
} from './codec/parser';
export { serializeFrame, encodeHeaderBlock, serializeMessage, type FrameChunks } from './codec/serializer';
