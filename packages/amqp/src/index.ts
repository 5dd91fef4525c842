/**
 * @warren/amqp — AMQP 0-9-1: the codec (frames, methods, field tables, content properties), the connection
 * and channel state machines that drive the routing core, and the TCP listener.
 */
export * from './codec/generated/methods';
export {
  MAX_FIELD_DEPTH,
  checkFieldTable,
  decodeFieldTable,
  decodeFieldTableBuffer,
  encodeFieldTable,
  fieldTableSize,
  fieldValueEnd,
  writeFieldTable,
} from './codec/field-table';
export {
  CONTENT_HEADER_PREFIX,
  checkProperties,
  contentHeaderSize,
  decodeContentHeader,
  decodeProperties,
  encodeProperties,
  propertiesSize,
  readRoutingProperties,
  writeContentHeader,
  writeProperties,
  type ContentHeader,
  type PropertiesInput,
  type RoutingProperties,
} from './codec/properties';
export {
  FRAME_BODY,
  FRAME_END,
  FRAME_HEADER,
  FRAME_HEADER_SIZE,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  FRAME_MIN_SIZE,
  FRAME_OVERHEAD,
  FrameReader,
  PROTOCOL_HEADER,
  checkFrameMax,
  type FrameHandler,
  type FrameReaderOptions,
} from './codec/frame-reader';
export { FrameWriter, HEARTBEAT_FRAME, INLINE_BODY_MAX } from './codec/frame-writer';
export { decodeMethodFrame, methodName } from './codec/method-frame';
export {
  listenAmqp,
  type AmqpListener,
  type AmqpListenerOptions,
  type SecureServerFactory,
} from './server/listener';
export { DEFAULT_MECHANISMS, MECHANISMS } from './server/auth';
export { AmqpConnection } from './server/amqp-connection';
export { AMQP_PROPERTIES } from './server/amqp-channel';
