export {
  connectCluster,
  parseVersion,
  type ClusterConnectOptions,
  type ClusterConnection,
} from './connection';
export { ConsumeLoop, type ConsumeHandle, type ConsumeOptions } from './consume-loop';
export { Delivery, parseAckSubject, type AckMetadata } from './delivery';
export {
  decodeEnvelope,
  encodeEnvelope,
  envelopeProperties,
  EnvelopeError,
  WARREN_PROPERTIES,
  type Envelope,
  type EnvelopeInput,
} from './envelope';
export {
  argumentsId,
  decodeToken,
  encodeToken,
  KeyCodecError,
  logStreamName,
  logSubject,
  parseKey,
  queueStreamName,
  queueSubject,
  recordKey,
  type ParsedKey,
} from './key-codec';
export { Publisher, PublishError, PublishTimeout, type PubAck } from './publisher';
export type { PullEnd, PullRequestOptions } from './pull-session';
export {
  CONSUMER_NAME,
  clusterSize,
  DEFAULT_PUBLISH_TIMEOUT_MS,
  DUPLICATE_WINDOW_MS,
  MAX_WAITING_PULLS,
  QueueStream,
  type PublishOptions,
  type PublishResult,
  type QueueStreamOptions,
} from './queue-stream';
export {
  TOPOLOGY_BUCKET,
  TopologyBucket,
  TopologyConflict,
  type TopologyChange,
  type TopologyEntry,
  type TopologyWatch,
} from './topology-bucket';
export {
  canonicalJson,
  decodeProperties,
  decodeRecord,
  decodeValue,
  encodeProperties,
  encodeRecord,
  encodeValue,
  ValueCodecError,
  type CodecValue,
} from './value-codec';
// Test support, exported here rather than from a second entry point: jest maps @warren/<pkg> to src/index.ts
// and a subpath (@warren/cluster/testing) would need its own mapping and package.json "exports".
export {
  freePort,
  natsServerBinary,
  startNatsCluster,
  type NatsCluster,
  type NatsClusterOptions,
} from './testing/nats-cluster';
export { ClusterNode, defaultNodeName, type ClusterNodeOptions } from './node';
export { ReplicatedQueue, type ReplicaHost, type ReplicaState } from './replicated-queue';
export { LogStream, LogReader, type LogStreamOptions } from './log-stream';
export { ReplicatedStream, type LogHost } from './replicated-stream';
export {
  ASK_SUBJECT,
  BARRIER_SUBJECT,
  chosenNode,
  HEARTBEAT_SUBJECT,
  QUEUE_STATE_SUBJECT,
  TRIM_SUBJECT,
  type PeerAnswer,
  type PeerAnswerer,
} from './peers';
