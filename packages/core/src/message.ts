import { WarrenError } from './errors';
import type { MessageProperties } from './properties';
import type { StoredMessage } from './store';
import { PERSISTENT } from './properties';

/**
 * Decodes a protocol's raw property bytes on first need. A protocol that keeps its encoded form (AMQP's
 * content-header property list) hands the bytes and its decoder over; the core decodes only when someone
 * looks (a headers exchange, dead-lettering, another protocol), and the same protocol can re-send the bytes.
 */
export interface PropertiesDecoder {
  /** Identifies the encoding, so a protocol can tell its own raw bytes from another's. */
  readonly format: string;
  decode(raw: Buffer): MessageProperties;
}

/** The three properties the core needs on every publish, read cheaply from raw bytes by the protocol. */
export interface PropertyHints {
  deliveryMode?: number | undefined;
  priority?: number | undefined;
  expiration?: string | undefined;
}

const NO_PROPERTIES: MessageProperties = Object.freeze({});
const NO_BODY = Buffer.alloc(0);

/**
 * One published message. Queues hold references to it, never copies: `refs` counts the queues (ready or
 * unacked) that still hold it, so the body's memory and its store record are released when the last one lets go.
 * Every field is assigned in the constructor so all messages share one hidden class.
 */
export class Message {
  /** Broker-wide sequence, assigned when published; the store's key. 0 until then. */
  id = 0;
  refs = 0;
  /** Set once a store holds the body, so a message routed to several durable queues is written once. */
  stored = false;
  /**
   * A stand-in for a message whose body and properties are on disk only (a durable queue over its memory
   * budget): it keeps what the queue needs to hold it (id, size, priority) until the queue reads it back.
   */
  readonly paged: boolean;
  /** Body bytes, also of a paged-out message (whose `body` is empty). */
  readonly size: number;
  readonly persistent: boolean;
  readonly priority: number;
  /** Per-message TTL in ms from the `expiration` property; -1 when it has none. */
  readonly ttl: number;
  private props: MessageProperties | undefined;

  private constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly body: Buffer,
    props: MessageProperties | undefined,
    private raw: Buffer | undefined,
    private decoder: PropertiesDecoder | undefined,
    hints: PropertyHints,
    size = -1,
  ) {
    this.props = props;
    this.paged = size >= 0;
    this.size = size >= 0 ? size : body.length;
    this.persistent = hints.deliveryMode === PERSISTENT;
    this.priority = hints.priority ?? 0;
    this.ttl = parseExpiration(hints.expiration);
  }

  static fromProperties(
    exchange: string,
    routingKey: string,
    properties: MessageProperties,
    body: Buffer,
  ): Message {
    return new Message(exchange, routingKey, body, properties, undefined, undefined, properties);
  }

  static fromRaw(
    exchange: string,
    routingKey: string,
    raw: Buffer,
    decoder: PropertiesDecoder,
    hints: PropertyHints,
    body: Buffer,
  ): Message {
    return new Message(exchange, routingKey, body, undefined, raw, decoder, hints);
  }

  /** A message read back from a store: at startup, or when a queue pages it in. */
  static fromStored(m: StoredMessage): Message {
    const msg = Message.fromProperties(m.exchange, m.routingKey, m.properties, m.body);
    msg.id = m.id;
    msg.stored = true;
    return msg;
  }

  /** The stand-in a queue holds while the message with this id waits on disk (see `paged`). */
  static pagedOut(id: number, size: number, priority: number): Message {
    const msg = new Message(
      '',
      '',
      NO_BODY,
      NO_PROPERTIES,
      undefined,
      undefined,
      { deliveryMode: PERSISTENT, priority },
      size,
    );
    msg.id = id;
    msg.stored = true;
    return msg;
  }

  get properties(): MessageProperties {
    if (this.props === undefined) {
      this.props =
        this.raw !== undefined && this.decoder !== undefined ? this.decoder.decode(this.raw) : NO_PROPERTIES;
    }
    return this.props;
  }

  /** The encoded property bytes if they are in `format`, so a protocol can forward them untouched. */
  rawProperties(format: string): Buffer | undefined {
    return this.decoder !== undefined && this.decoder.format === format ? this.raw : undefined;
  }

  /** A new message with changed routing and properties but the same body (dead-lettering, STOMP replies). */
  derive(exchange: string, routingKey: string, properties: MessageProperties): Message {
    return Message.fromProperties(exchange, routingKey, properties, this.body);
  }
}

/**
 * RabbitMQ accepts only a non-negative integer in decimal as `expiration`; anything else is refused with
 * PRECONDITION_FAILED rather than silently ignored.
 */
function parseExpiration(expiration: string | undefined): number {
  if (expiration === undefined) return -1;
  if (!/^\d{1,15}$/.test(expiration)) {
    throw new WarrenError('PRECONDITION_FAILED', `invalid expiration '${expiration.slice(0, 64)}'`);
  }
  return Number(expiration);
}
