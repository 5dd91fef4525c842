/**
 * @warren/stomp — STOMP 1.0/1.1/1.2: the frame codec, the session (over any Transport), destinations and the
 * header <-> property mapping, JMS selectors, and the TCP listener (listenStomp).
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
export {
  DEFAULT_SERVER_NAME,
  listenStomp,
  type SecureServerFactory,
  type StompListener,
  type StompListenerOptions,
} from './listener';
export { StompSession, type StompSessionOptions } from './session/session';
export type { Transport } from './session/transport';
export { StompFailure } from './session/stomp-failure';
export {
  parseDestination,
  destinationOf,
  replyToHeader,
  replyToProperty,
  type Destination,
} from './mapping/destination';
export { propertiesFromSend, headersFromProperties, headerText } from './mapping/headers';
export { selectorValue } from './mapping/selector-lookup';
export {
  Selector,
  SelectorError,
  parseSelector,
  evaluate,
  type SelectorLookup,
  type SelectorNode,
  type SelectorValue,
} from './selector';
