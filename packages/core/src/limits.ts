/**
 * Every bound the broker enforces, in one place, with its default. Protocol packages read theirs from here
 * too, so an operator has one table to look at. All sizes are bytes, all times milliseconds.
 */
export interface Limits {
  /** Largest message body accepted (RabbitMQ's max_message_size default is 128 MiB). */
  maxMessageSize: number;
  /** AMQP frame-max the server proposes (RabbitMQ: 131072). */
  frameMax: number;
  /** AMQP channel-max the server proposes (RabbitMQ: 2047). */
  channelMax: number;
  /** Heartbeat the server proposes, in seconds (RabbitMQ: 60). */
  heartbeatSeconds: number;
  /**
   * How long a client has from its first byte of TCP to an open session (AMQP connection.open-ok, STOMP
   * CONNECTED); then the socket is closed. RabbitMQ's handshake_timeout. Bounds what a flood of half-open
   * handshakes can hold.
   */
  handshakeTimeoutMs: number;
  /** Consumers on one channel. */
  maxConsumersPerChannel: number;
  /**
   * Exclusive queues one connection holds at once (server-named, direct reply-to, STOMP topic and temp-queue
   * queues): they live as long as the connection, so without a bound one client could make millions.
   */
  maxQueuesPerConnection: number;
  /** Publishes + acks buffered in one transaction before tx operations are refused. */
  maxTransactionOps: number;
  /**
   * RabbitMQ's consumer_timeout: a channel holding a delivery unacknowledged this long is closed with
   * PRECONDITION_FAILED (30 minutes, RabbitMQ's default); 0 turns it off.
   */
  consumerTimeoutMs: number;
  /** Unacked deliveries on one channel when no prefetch is set (a safety net, not flow control). */
  maxUnackedPerChannel: number;
  /** Bytes queued for one socket before the broker stops delivering to it until 'drain'. */
  maxOutboundBytes: number;
  /**
   * Bytes of frames one connection may have waiting behind topology claims (see TopologyAuthority: a channel
   * or STOMP session whose declare or bind the cluster has not yet confirmed queues what follows it, in
   * order). Past it the broker stops reading the connection until the claims settle and the queue drains.
   * Only a clustered broker ever parks; a single node never does.
   */
  maxParkedBytes: number;
  /** Message body bytes held in memory by the whole broker before publishers are blocked. */
  memoryHighWatermark: number;
  /**
   * The process's RSS before publishers are blocked, RabbitMQ's vm_memory_high_watermark: a fraction of the
   * machine's memory (or of the container's limit) when at most 1, else bytes; 0 turns the check off.
   */
  vmMemoryHighWatermark: number;
  /**
   * The share of V8's heap limit the JavaScript heap may fill before publishers are blocked (0 turns it off).
   * Past the limit the process dies ("heap out of memory"); every queued message costs heap even when its body
   * is on disk, so this is what turns an unbounded backlog into blocked publishers instead of a crash.
   */
  heapHighWatermark: number;
  /** How often the process's memory is sampled for the two marks above. */
  memoryCheckIntervalMs: number;
  /**
   * Ready message bytes a durable queue keeps in memory; its persistent messages past them wait on disk only
   * (an index entry each in memory) until they near the head. 0 keeps everything in memory.
   */
  queueResidentBytes: number;
  /** Deliveries dispatched in one go before yielding to I/O (setImmediate). */
  dispatchBatch: number;
  /** STOMP frame size (headers + body). */
  stompMaxFrameSize: number;
  /** STOMP headers in one frame. */
  stompMaxHeaders: number;
  /** Bytes of one STOMP header line. */
  stompMaxHeaderLength: number;
  /** Bytes a STOMP client may send before its CONNECT is complete. */
  stompMaxPreConnectBytes: number;
  /**
   * Bytes of a STOMP command line (without its EOL). The longest command is UNSUBSCRIBE (11): an unknown but
   * plausible command is refused politely, a longer line is no command at all and closes the connection.
   */
  stompMaxCommandLength: number;
  /**
   * SUBSCRIBEs open at once on one STOMP session, temp-queue reply subscriptions included: each may hold a
   * queue of its own, so one client cannot make thousands; well below maxConsumersPerChannel so the client
   * hears a STOMP ERROR it can act on, not the channel's resource error.
   */
  stompMaxSubscriptions: number;
  /**
   * The shortest STOMP heart-beat interval the server agrees to, each way (a client asking for 1 ms would cost
   * a timer tick per connection every half millisecond). RabbitMQ's heartbeats are whole seconds.
   */
  stompMinHeartbeatMs: number;
  /** Entries kept by a topic exchange's routing-key cache. */
  topicCacheSize: number;
  /**
   * Characters (UTF-16 code units) of one JMS selector (the STOMP SUBSCRIBE `selector` header); a longer one
   * is refused with ERROR "Invalid selector". The selector runs against every message offered to its
   * subscription, and a LIKE costs up to (value length x pattern length), so its length is the client's
   * lever on the broker's work per message. RabbitMQ refuses AMQP 1.0 SQL filter expressions over 4096
   * characters (and 200 tokens), after the AMQP Filter Expressions spec (7.1); ActiveMQ Classic sets no
   * bound of its own (and compiles LIKE to a backtracking java.util.regex Pattern).
   */
  selectorMaxLength: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxMessageSize: 128 * 1024 * 1024,
  frameMax: 131072,
  channelMax: 2047,
  heartbeatSeconds: 60,
  handshakeTimeoutMs: 10_000,
  maxConsumersPerChannel: 65535,
  maxQueuesPerConnection: 65535,
  maxTransactionOps: 65536,
  consumerTimeoutMs: 1_800_000,
  maxUnackedPerChannel: 1_000_000,
  maxOutboundBytes: 4 * 1024 * 1024,
  maxParkedBytes: 1024 * 1024,
  memoryHighWatermark: 1024 * 1024 * 1024,
  vmMemoryHighWatermark: 0.4,
  heapHighWatermark: 0.75,
  memoryCheckIntervalMs: 250,
  queueResidentBytes: 16 * 1024 * 1024,
  dispatchBatch: 256,
  stompMaxFrameSize: 4 * 1024 * 1024,
  stompMaxHeaders: 1000,
  stompMaxHeaderLength: 64 * 1024,
  stompMaxPreConnectBytes: 64 * 1024,
  stompMaxCommandLength: 32,
  stompMaxSubscriptions: 4096,
  stompMinHeartbeatMs: 1000,
  topicCacheSize: 4096,
  selectorMaxLength: 4096,
});

export function resolveLimits(overrides?: Partial<Limits>): Limits {
  return { ...DEFAULT_LIMITS, ...overrides };
}
