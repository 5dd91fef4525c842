import {
  Message,
  REPLY_TO_QUEUE,
  UntranslatableMessage,
  WarrenError,
  type Channel,
  type Consumer,
  type ConsumerSink,
  type DeclaredQueue,
  type Delivery,
  type GetResult,
  type MessageProperties,
  type PropertiesDecoder,
} from '@warren/core';
import {
  ACCESS_REQUEST,
  ACCESS_REQUEST_OK,
  BASIC_ACK,
  BASIC_CANCEL,
  BASIC_CANCEL_OK,
  BASIC_CLASS_ID,
  BASIC_CONSUME,
  BASIC_CONSUME_OK,
  BASIC_GET,
  BASIC_GET_EMPTY,
  BASIC_GET_OK,
  BASIC_NACK,
  BASIC_PUBLISH,
  BASIC_QOS,
  BASIC_QOS_OK,
  BASIC_RECOVER,
  BASIC_RECOVER_ASYNC,
  BASIC_RECOVER_OK,
  BASIC_REJECT,
  BASIC_RETURN,
  CHANNEL_CLOSE,
  CHANNEL_CLOSE_OK,
  CHANNEL_FLOW,
  CHANNEL_FLOW_OK,
  CHANNEL_OPEN,
  CHANNEL_OPEN_OK,
  CONFIRM_SELECT,
  CONFIRM_SELECT_OK,
  EXCHANGE_BIND,
  EXCHANGE_BIND_OK,
  EXCHANGE_DECLARE,
  EXCHANGE_DECLARE_OK,
  EXCHANGE_DELETE,
  EXCHANGE_DELETE_OK,
  EXCHANGE_UNBIND,
  EXCHANGE_UNBIND_OK,
  QUEUE_BIND,
  QUEUE_BIND_OK,
  QUEUE_DECLARE,
  QUEUE_DECLARE_OK,
  QUEUE_DELETE,
  QUEUE_DELETE_OK,
  QUEUE_PURGE,
  QUEUE_PURGE_OK,
  QUEUE_UNBIND,
  QUEUE_UNBIND_OK,
  TX_COMMIT,
  TX_COMMIT_OK,
  TX_ROLLBACK,
  TX_ROLLBACK_OK,
  TX_SELECT,
  TX_SELECT_OK,
  type BasicPublish,
  type Method,
} from '../codec/generated/methods';
import {
  checkProperties,
  decodeContentHeader,
  decodeProperties,
  readRoutingProperties,
  type RoutingProperties,
} from '../codec/properties';
import { methodName } from '../codec/method-frame';
import type { ChannelHost } from './channel-host';
import type { ParkedFrame } from './parked-frames';

/** The property encoding of messages published over AMQP; deliveries to AMQP consumers re-send these bytes. */
export const AMQP_PROPERTIES: PropertiesDecoder = { format: 'amqp-0-9-1', decode: decodeProperties };

/** Property flag bits (spec 4.2.6.1) of the two properties checked on publish. */
const USER_ID_FLAG = 1 << 4;
const REPLY_TO_FLAG = 1 << 9;

const enum Content {
  /** Not inside a message: methods expected. */
  None,
  /** basic.publish seen: its content header must come next. */
  Header,
  /** Header seen: body frames until bodySize octets have arrived. */
  Body,
}

/**
 * One AMQP channel: decodes what the client asks into calls on the core Channel, assembles published
 * messages from their frames, and writes deliveries, returns and confirms back. Channel errors close only
 * this channel (channel.close, then discard everything until close-ok: spec 2.2.5).
 */
export class AmqpChannel implements ConsumerSink {
  readonly core: Channel;
  /**
   * Set while a topology claim of this channel is pending (clustered brokers only): the frames that arrive
   * meanwhile, in order, replayed once it settles. Undefined on a single node, always.
   */
  parked: ParkedFrame[] | undefined = undefined;
  /** We sent channel.close and wait for close-ok. */
  private closing = false;
  private content = Content.None;
  private publish: BasicPublish | undefined = undefined;
  private props: Buffer = Buffer.alloc(0);
  private body: Buffer = Buffer.alloc(0);
  private received = 0;
  private readonly hints: RoutingProperties = {
    deliveryMode: undefined,
    priority: undefined,
    expiration: undefined,
  };
  /** Direct reply-to: the private queue behind amq.rabbitmq.reply-to once this channel consumes it. */
  private replyQueue: string | undefined = undefined;

  constructor(
    private readonly conn: ChannelHost,
    readonly id: number,
  ) {
    const core = conn.core;
    if (core === undefined) throw new WarrenError('COMMAND_INVALID', 'connection is not open');
    this.core = core.openChannel(id, {
      returned: (msg, replyCode, replyText) => this.returned(msg, replyCode, replyText),
      confirmed: (seq, multiple, ack) =>
        this.conn.send(
          this.id,
          ack
            ? { id: BASIC_ACK, deliveryTag: seq, multiple }
            : { id: BASIC_NACK, deliveryTag: seq, multiple, requeue: false },
        ),
      closedByBroker: (err) => this.fail(err),
    });
  }

  opened(): void {
    this.conn.send(this.id, { id: CHANNEL_OPEN_OK, channelId: Buffer.alloc(0) });
  }

  // ---- frames -----------------------------------------------------------------------------------------

  onMethod(m: Method): void {
    if (this.closing) {
      // Spec 2.2.5: after channel.close only close and close-ok count.
      if (m.id === CHANNEL_CLOSE_OK) this.conn.forgetChannel(this.id);
      else if (m.id === CHANNEL_CLOSE) this.conn.sendChannelCloseOk(this.id);
      return;
    }
    if (this.content !== Content.None) {
      throw new WarrenError(
        'UNEXPECTED_FRAME',
        this.content === Content.Header
          ? `expected content header for class ${BASIC_CLASS_ID}, got non content header frame instead`
          : 'expected content body, got non content body frame instead',
      );
    }
    this.dispatch(m);
  }

  onContentHeader(payload: Buffer): void {
    if (this.closing) return;
    if (this.content !== Content.Header) {
      throw new WarrenError('UNEXPECTED_FRAME', 'expected method frame, got non method frame instead');
    }
    const header = decodeContentHeader(payload);
    if (header.classId !== BASIC_CLASS_ID) {
      throw new WarrenError(
        'UNEXPECTED_FRAME',
        `expected content header for class ${BASIC_CLASS_ID}, got one for class ${header.classId} instead`,
      );
    }
    const max = this.conn.limits.maxMessageSize;
    if (header.bodySize > max) {
      this.content = Content.None;
      throw new WarrenError(
        'PRECONDITION_FAILED',
        `message size ${header.bodySize} is larger than configured max size ${max}`,
      );
    }
    // Validate at the door (DESIGN §4b): the properties are decoded lazily, maybe much later and in another
    // client's turn (a STOMP subscriber, a headers exchange, dead-lettering), so whatever would fail to decode
    // fails now, on the publisher's connection, before anything is enqueued.
    const raw = header.properties;
    this.content = Content.None;
    checkProperties(raw);
    // One allocation holds both the properties and the body: frames are views into socket chunks, and
    // nothing of a chunk may be kept (a 20-byte body would pin 64 KiB).
    const slab = Buffer.allocUnsafeSlow(raw.length + header.bodySize);
    raw.copy(slab, 0);
    this.props = slab.subarray(0, raw.length);
    this.body = slab.subarray(raw.length);
    this.received = 0;
    if (header.bodySize === 0) this.complete();
    else this.content = Content.Body;
  }

  onBody(payload: Buffer): void {
    if (this.closing) return;
    if (this.content !== Content.Body) {
      throw new WarrenError('UNEXPECTED_FRAME', 'expected method frame, got non method frame instead');
    }
    if (this.received + payload.length > this.body.length) {
      throw new WarrenError(
        'FRAME_ERROR',
        `content body exceeds the declared size of ${this.body.length} octets`,
      );
    }
    payload.copy(this.body, this.received);
    this.received += payload.length;
    if (this.received === this.body.length) this.complete();
  }

  /** A channel-level error: tell the client, drop our side now, wait for close-ok. */
  fail(err: WarrenError, m?: Method): void {
    if (this.closing) return;
    this.closing = true;
    this.content = Content.None;
    // As after any channel.close, what the client sent after the failed method is discarded (spec 2.2.5).
    this.dropParked();
    this.conn.log.debug(
      { channel: this.id, code: err.replyCode, reason: err.message },
      'closing channel on error',
    );
    this.core.close();
    this.conn.sendChannelClose(this.id, err, m);
  }

  // ---- methods ----------------------------------------------------------------------------------------

  private dispatch(m: Method): void {
    const core = this.core;
    const ch = this.id;
    switch (m.id) {
      case BASIC_PUBLISH:
        if (m.immediate) throw new WarrenError('NOT_IMPLEMENTED', 'immediate=true');
        this.publish = m;
        this.content = Content.Header;
        return;
      case BASIC_ACK:
        core.ack(m.deliveryTag, m.multiple);
        return;
      case BASIC_NACK:
        core.nack(m.deliveryTag, m.multiple, m.requeue);
        return;
      case BASIC_REJECT:
        core.reject(m.deliveryTag, m.requeue);
        return;
      case BASIC_CONSUME:
        return this.consume(m);
      case BASIC_CANCEL:
        core.cancel(m.consumerTag);
        if (!m.noWait) this.reply({ id: BASIC_CANCEL_OK, consumerTag: m.consumerTag });
        return;
      case BASIC_QOS:
        // RabbitMQ refuses a byte-based prefetch with a connection error.
        if (m.prefetchSize !== 0)
          throw new WarrenError('NOT_IMPLEMENTED', `prefetch_size!=0 (${m.prefetchSize})`);
        this.reply({ id: BASIC_QOS_OK });
        core.qos(m.prefetchCount, m.global);
        return;
      case BASIC_GET:
        return this.get(m.queue, m.noAck);
      case BASIC_RECOVER:
      case BASIC_RECOVER_ASYNC:
        if (!m.requeue) throw new WarrenError('NOT_IMPLEMENTED', 'requeue=false');
        if (m.id === BASIC_RECOVER) this.reply({ id: BASIC_RECOVER_OK });
        core.recover();
        return;
      case QUEUE_DECLARE: {
        const r = core.claims.queueDeclare(
          m.queue,
          { durable: m.durable, exclusive: m.exclusive, autoDelete: m.autoDelete, arguments: m.arguments },
          m.passive,
        );
        if (r instanceof Promise) return this.parkOn(r, m, (d) => this.declareOk(m.noWait, d));
        return this.declareOk(m.noWait, r);
      }
      case QUEUE_BIND:
        return this.replyAfter(
          core.claims.queueBind(m.queue, m.exchange, m.routingKey, m.arguments),
          m,
          m.noWait ? undefined : { id: QUEUE_BIND_OK },
        );
      case QUEUE_UNBIND:
        return this.replyAfter(core.claims.queueUnbind(m.queue, m.exchange, m.routingKey, m.arguments), m, {
          id: QUEUE_UNBIND_OK,
        });
      case QUEUE_PURGE: {
        const r = core.queuePurge(m.queue);
        const ok = (n: number): void => {
          if (!m.noWait) this.reply({ id: QUEUE_PURGE_OK, messageCount: n });
        };
        if (r instanceof Promise) return this.parkOn(r, m, ok);
        return ok(r);
      }
      case QUEUE_DELETE: {
        const r = core.claims.queueDelete(m.queue, m.ifUnused, m.ifEmpty);
        const ok = (n: number): void => {
          if (!m.noWait) this.reply({ id: QUEUE_DELETE_OK, messageCount: n });
        };
        if (r instanceof Promise) return this.parkOn(r, m, ok);
        return ok(r);
      }
      case EXCHANGE_DECLARE:
        return this.replyAfter(
          core.claims.exchangeDeclare(
            m.exchange,
            m.type,
            { durable: m.durable, autoDelete: m.autoDelete, internal: m.internal, arguments: m.arguments },
            m.passive,
          ),
          m,
          m.noWait ? undefined : { id: EXCHANGE_DECLARE_OK },
        );
      case EXCHANGE_DELETE:
        return this.replyAfter(
          core.claims.exchangeDelete(m.exchange, m.ifUnused),
          m,
          m.noWait ? undefined : { id: EXCHANGE_DELETE_OK },
        );
      case EXCHANGE_BIND:
        return this.replyAfter(
          core.claims.exchangeBind(m.destination, m.source, m.routingKey, m.arguments),
          m,
          m.noWait ? undefined : { id: EXCHANGE_BIND_OK },
        );
      case EXCHANGE_UNBIND:
        return this.replyAfter(
          core.claims.exchangeUnbind(m.destination, m.source, m.routingKey, m.arguments),
          m,
          m.noWait ? undefined : { id: EXCHANGE_UNBIND_OK },
        );
      case CONFIRM_SELECT:
        core.confirmSelect();
        if (!m.noWait) this.reply({ id: CONFIRM_SELECT_OK });
        return;
      case TX_SELECT:
        core.txSelect();
        this.reply({ id: TX_SELECT_OK });
        return;
      case TX_COMMIT:
        core.txCommit();
        this.reply({ id: TX_COMMIT_OK });
        return;
      case TX_ROLLBACK:
        core.txRollback();
        this.reply({ id: TX_ROLLBACK_OK });
        return;
      case CHANNEL_FLOW:
        // RabbitMQ 3.x no longer lets a client stop deliveries this way (prefetch does it better).
        if (!m.active) throw new WarrenError('NOT_IMPLEMENTED', 'active=false');
        core.flow(true);
        this.reply({ id: CHANNEL_FLOW_OK, active: m.active });
        return;
      case CHANNEL_CLOSE:
        core.close();
        this.conn.sendChannelCloseOk(ch);
        this.conn.forgetChannel(ch);
        return;
      case CHANNEL_CLOSE_OK:
        return; // not closing: nothing to confirm
      case CHANNEL_OPEN:
        throw new WarrenError('CHANNEL_ERROR', `second 'channel.open' seen on channel ${ch}`);
      case ACCESS_REQUEST:
        // Deprecated in 0-9-1 but still sent by old clients; RabbitMQ grants ticket 1.
        this.reply({ id: ACCESS_REQUEST_OK, ticket: 1 });
        return;
      default:
        throw new WarrenError('COMMAND_INVALID', `unexpected ${methodName(m)} on channel ${ch}`);
    }
  }

  private reply(m: Method): void {
    this.conn.send(this.id, m);
  }

  private declareOk(noWait: boolean, r: DeclaredQueue): void {
    if (noWait) return;
    this.reply({
      id: QUEUE_DECLARE_OK,
      queue: r.queue,
      messageCount: r.messageCount,
      consumerCount: r.consumerCount,
    });
  }

  // ---- topology claims --------------------------------------------------------------------------------

  /** Sends `ok` (undefined: nowait) now, or once `claim` has settled, the channel parked meanwhile. */
  private replyAfter(claim: Promise<void> | undefined, m: Method, ok: Method | undefined): void {
    const reply = (): void => {
      if (ok !== undefined) this.reply(ok);
    };
    if (claim === undefined) return reply();
    this.parkOn(claim, m, reply);
  }

  /**
   * Parks this channel until `claim` settles: its later frames (publishes, acks, anything) wait in order
   * while the connection's other channels carry on. Resolved: the reply goes out, then the parked frames are
   * replayed. Rejected: the method's usual channel (or connection) close, and the parked frames are
   * dropped, as AMQP discards what follows a failed method on its channel.
   */
  private parkOn<T>(claim: Promise<T>, m: Method, ok: (result: T) => void): void {
    this.parked = [];
    claim.then(
      (result) =>
        this.conn.guard(() => {
          const frames = this.parked;
          if (frames === undefined || this.closing || this.core.closed) return this.dropParked();
          this.parked = undefined;
          ok(result);
          this.conn.replayParked(this.id, frames);
        }),
      (e: unknown) =>
        this.conn.guard(() => {
          if (this.parked === undefined || this.closing || this.core.closed) return this.dropParked();
          this.dropParked();
          this.conn.failChannel(this.id, e, m);
        }),
    );
  }

  /** Forgets the parked frames (the channel failed or closed, or its connection went). */
  dropParked(): void {
    const frames = this.parked;
    if (frames === undefined) return;
    this.parked = undefined;
    this.conn.releaseParked(frames);
  }

  /** consume-ok must precede the first delivery, and the core may deliver inside consume(). */
  private consume(m: Extract<Method, { id: typeof BASIC_CONSUME }>): void {
    let queue = m.queue;
    if (queue === REPLY_TO_QUEUE) {
      if (!m.noAck) throw new WarrenError('PRECONDITION_FAILED', 'reply consumer cannot acknowledge');
      if (this.replyQueue !== undefined)
        throw new WarrenError('PRECONDITION_FAILED', 'reply consumer already set');
      this.replyQueue = this.core.declareReplyQueue();
      queue = this.replyQueue;
    }
    const out = this.conn.outbound;
    const mark = out.length;
    const consumer = this.core.consume(
      queue,
      { consumerTag: m.consumerTag, noAck: m.noAck, exclusive: m.exclusive, arguments: m.arguments },
      this,
    );
    if (!m.noWait) {
      out.splice(
        mark,
        0,
        this.conn.writer.method(this.id, { id: BASIC_CONSUME_OK, consumerTag: consumer.tag }),
      );
      this.conn.scheduleFlush();
    }
  }

  /** basic.get: answered now, or once a paged-out head is read back from the store. */
  private get(queue: string, noAck: boolean): void {
    this.core.get(queue, noAck, (r) => this.getReply(r));
  }

  private getReply(r: GetResult | undefined): void {
    if (r === undefined) {
      this.conn.send(this.id, { id: BASIC_GET_EMPTY, clusterId: '' });
      return;
    }
    const d = r.delivery;
    const msg = d.msg;
    try {
      this.writeGetOk(r);
    } catch (e) {
      // As for a consumer (Channel.deliveryFailed): a message AMQP cannot carry is rejected, the channel lives.
      this.conn.log.warn(
        { channel: this.id, err: e, exchange: msg.exchange },
        'a message cannot be delivered over AMQP; rejected',
      );
      this.core.vhost.broker.counters.untranslatable++;
      if (this.core.unacked.get(d.tag) === d) this.core.nack(d.tag, false, false);
      this.conn.send(this.id, { id: BASIC_GET_EMPTY, clusterId: '' });
    }
  }

  private writeGetOk(r: GetResult): void {
    const d = r.delivery;
    const msg = d.msg;
    this.conn.writer.message(
      this.id,
      {
        id: BASIC_GET_OK,
        deliveryTag: d.tag,
        redelivered: d.redelivered,
        exchange: msg.exchange,
        routingKey: msg.routingKey,
        messageCount: r.messageCount,
      },
      deliveryProperties(d),
      msg.body,
      this.conn.outbound,
    );
    this.conn.scheduleFlush();
  }

  /** The last body frame arrived: the message goes into the broker. */
  private complete(): void {
    const p = this.publish as BasicPublish;
    this.content = Content.None;
    this.publish = undefined;
    readRoutingProperties(this.props, this.hints);
    // Decoding properties costs: the flags say whether user-id or reply-to are there at all.
    const flags = this.props.readUInt16BE(0);
    if ((flags & USER_ID_FLAG) !== 0) this.core.checkUserId(decodeProperties(this.props).userId);
    let msg = Message.fromRaw(p.exchange, p.routingKey, this.props, AMQP_PROPERTIES, this.hints, this.body);
    if ((flags & REPLY_TO_FLAG) !== 0 && this.props.indexOf(REPLY_TO_QUEUE) >= 0)
      msg = this.withReplyQueue(msg);
    this.core.publish(p.exchange, msg, p.mandatory);
    this.conn.blockIfAlarm();
  }

  /** Direct reply-to: a request naming amq.rabbitmq.reply-to carries this channel's real reply queue instead. */
  private withReplyQueue(msg: Message): Message {
    if (msg.properties.replyTo !== REPLY_TO_QUEUE) return msg;
    if (this.replyQueue === undefined)
      throw new WarrenError('PRECONDITION_FAILED', 'fast reply consumer does not exist');
    return msg.derive(msg.exchange, msg.routingKey, { ...msg.properties, replyTo: this.replyQueue });
  }

  // ---- from the broker --------------------------------------------------------------------------------

  deliver(d: Delivery, consumer: Consumer): void {
    const msg = d.msg;
    try {
      // The writer sizes every frame before it appends anything, so a refusal leaves the outbound batch whole.
      this.conn.writer.deliver(
        this.id,
        consumer.tag,
        d.tag,
        d.redelivered,
        msg.exchange,
        msg.routingKey,
        deliveryProperties(d),
        msg.body,
        this.conn.outbound,
      );
    } catch (e) {
      // A message from another protocol with what AMQP cannot encode (a routing key over 255 octets, ...).
      throw new UntranslatableMessage(e instanceof Error ? e.message : 'cannot encode for AMQP', e);
    }
    this.conn.scheduleFlush();
  }

  cancelledByBroker(consumer: Consumer): void {
    // Only clients that said they understand it get a server-sent basic.cancel (RabbitMQ's rule).
    if (this.conn.capabilities.consumerCancelNotify && !this.closing) {
      this.conn.send(this.id, { id: BASIC_CANCEL, consumerTag: consumer.tag, noWait: true });
    }
  }

  private returned(msg: Message, replyCode: number, replyText: string): void {
    try {
      this.conn.writer.message(
        this.id,
        { id: BASIC_RETURN, replyCode, replyText, exchange: msg.exchange, routingKey: msg.routingKey },
        msg.rawProperties(AMQP_PROPERTIES.format) ?? msg.properties,
        msg.body,
        this.conn.outbound,
      );
    } catch (e) {
      this.conn.log.warn({ channel: this.id, err: e }, 'an unroutable message cannot be returned over AMQP');
      this.core.vhost.broker.counters.untranslatable++;
      return;
    }
    this.conn.scheduleFlush();
  }
}

/**
 * The properties one delivery carries: the message's own raw bytes, forwarded untouched, unless its queue adds
 * headers to this delivery (a quorum queue's x-delivery-count, a stream's x-stream-offset).
 */
function deliveryProperties(d: Delivery): Buffer | MessageProperties {
  const msg = d.msg;
  const extra = d.queue.deliveryHeaders(d);
  if (extra === undefined) return msg.rawProperties(AMQP_PROPERTIES.format) ?? msg.properties;
  const props = msg.properties;
  return { ...props, headers: { ...(props.headers ?? {}), ...extra } };
}
