/**
 * A minimal AMQP 0-9-1 client for load generation, on Warren's own codec: one connection, one channel (1).
 *
 * Setup (handshake, declares, qos, consume, confirm.select) goes through `rpc`, one synchronous method at a
 * time, with Promises: it runs a handful of times per connection. The hot paths avoid all of that:
 *   - basic.deliver, the content header and body frames, and confirm acks are read straight from the frame
 *     payload views (no decodeMethodFrame, no strings, no objects) and reported through plain callbacks;
 *   - publishes are written by the caller as ready-made frame bytes (`write`), see publish-frames.ts.
 * Heartbeats are off (tune-ok heartbeat 0), like the C harness: a load test never idles long enough to need them.
 */
import { connect, type Socket } from 'node:net';
import type { FieldTable } from '@warren/core';
import {
  BASIC_ACK,
  BASIC_CANCEL,
  BASIC_DELIVER,
  BASIC_NACK,
  CHANNEL_CLOSE,
  CHANNEL_CLOSE_OK,
  CHANNEL_OPEN,
  CONNECTION_BLOCKED,
  CONNECTION_CLOSE,
  CONNECTION_CLOSE_OK,
  CONNECTION_OPEN,
  CONNECTION_START,
  CONNECTION_START_OK,
  CONNECTION_TUNE,
  CONNECTION_TUNE_OK,
  CONNECTION_UNBLOCKED,
  FrameReader,
  FrameWriter,
  PROTOCOL_HEADER,
  decodeMethodFrame,
  type FrameHandler,
  type Method,
} from '@warren/amqp';

export interface ConnectOptions {
  host: string;
  port: number;
  user: string;
  pass: string;
  vhost: string;
  /** Requested frame-max; the smaller of this and the server's offer wins (0 = no limit). */
  frameMax: number;
  /** Shown in the broker's connection list. */
  name: string;
}

/** Receives each complete delivery: `sendNs` is the time the producer stamped into the body. */
export type DeliveryCallback = (deliveryTag: number, sendNs: number, recvNs: number) => void;
/** Receives publisher-confirm acks and nacks. */
export type ConfirmCallback = (deliveryTag: number, multiple: boolean, nack: boolean) => void;

const CHANNEL = 1;
const TWO_32 = 0x100000000;

interface Pending {
  expect: number;
  resolve: (m: Method) => void;
  reject: (err: Error) => void;
}

export class AmqpClient implements FrameHandler {
  readonly writer = new FrameWriter();
  private readonly reader: FrameReader;
  private pending: Pending | undefined;
  private failure: Error | undefined;
  private closed = false;
  /** Set by close(): the broker hanging up after close-ok is then expected, not an error. */
  private closing = false;
  /** Read once per socket chunk: every message in a chunk arrived at the same moment. */
  private recvNs = 0;
  /** Delivery being assembled: its tag, body octets still to come, and the send time from its first frame. */
  private dTag = 0;
  private dRemaining = -1;
  private dFirst = false;
  private dSendNs = 0;
  onDelivery: DeliveryCallback | undefined;
  onConfirm: ConfirmCallback | undefined;
  /** Called after every socket chunk has been handled: the place to flush batched acks. */
  onChunkEnd: (() => void) | undefined;
  onBlocked: ((blocked: boolean) => void) | undefined;
  /** A broker-side close or a socket error after setup. */
  onError: ((err: Error) => void) | undefined;
  frameMax = 0;

  private constructor(
    readonly socket: Socket,
    private readonly options: ConnectOptions,
  ) {
    this.reader = new FrameReader(this, { expectProtocolHeader: false });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed by the broker')));
  }

  /** Connects, logs in with PLAIN, opens channel 1. */
  static async connect(options: ConnectOptions): Promise<AmqpClient> {
    const socket = connect({ host: options.host, port: options.port });
    const client = new AmqpClient(socket, options);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const tune = client.expect(CONNECTION_TUNE);
    socket.write(PROTOCOL_HEADER);
    const t = await tune;
    if (t.id !== CONNECTION_TUNE) throw new Error('unreachable');
    // Spec 1.4.2.6: the client may lower, never raise, the server's limits; 0 from either side means "none".
    const frameMax =
      t.frameMax === 0 ? options.frameMax : Math.min(t.frameMax, options.frameMax || t.frameMax);
    client.frameMax = frameMax;
    client.reader.setFrameMax(frameMax);
    client.writer.setFrameMax(frameMax);
    client.send({ id: CONNECTION_TUNE_OK, channelMax: 1, frameMax, heartbeat: 0 }, 0);
    await client.rpc({ id: CONNECTION_OPEN, virtualHost: options.vhost, capabilities: '', insist: false }, 0);
    await client.rpc({ id: CHANNEL_OPEN, outOfBand: '' });
    return client;
  }

  /** Sends a synchronous method and resolves with its reply (the method id one above the request's). */
  rpc(m: Method, channel: number = CHANNEL): Promise<Method> {
    const reply = this.expect(m.id + 1);
    this.send(m, channel);
    return reply;
  }

  send(m: Method, channel: number = CHANNEL): void {
    if (!this.closed) this.socket.write(this.writer.method(channel, m));
  }

  /** Writes ready-made frames; false when the socket buffer is over its high-water mark (wait for 'drain'). */
  write(frames: Buffer): boolean {
    return this.closed ? false : this.socket.write(frames);
  }

  /** connection.close and wait (bounded) for close-ok; the socket is destroyed either way. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    const done = this.expect(CONNECTION_CLOSE_OK).then(
      () => undefined,
      () => undefined,
    );
    this.send({ id: CONNECTION_CLOSE, replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 }, 0);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.closed = true;
    this.socket.destroy();
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private expect(id: number): Promise<Method> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error('one synchronous method at a time'));
    return new Promise((resolve, reject) => (this.pending = { expect: id, resolve, reject }));
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const p = this.pending;
    this.pending = undefined;
    if (p) p.reject(err);
    else if (!this.closed && !this.closing) this.onError?.(err);
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.recvNs = Number(process.hrtime.bigint());
    try {
      this.reader.push(chunk);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.onChunkEnd?.();
  }

  onProtocolHeader(): void {
    // A client reader never expects one (expectProtocolHeader: false).
  }

  onMethod(_channel: number, payload: Buffer): void {
    const id = payload.readUInt32BE(0);
    if (id === BASIC_DELIVER) {
      // consumer-tag shortstr, then delivery-tag longlong: the only field the load generator needs.
      const p = 5 + (payload[4] as number);
      this.dTag = payload.readUInt32BE(p) * TWO_32 + payload.readUInt32BE(p + 4);
      this.dRemaining = -1;
      return;
    }
    if (id === BASIC_ACK || id === BASIC_NACK) {
      const tag = payload.readUInt32BE(4) * TWO_32 + payload.readUInt32BE(8);
      this.onConfirm?.(tag, ((payload[12] as number) & 1) === 1, id === BASIC_NACK);
      return;
    }
    this.onOtherMethod(decodeMethodFrame(payload));
  }

  private onOtherMethod(m: Method): void {
    switch (m.id) {
      case CONNECTION_START:
        this.send(
          {
            id: CONNECTION_START_OK,
            clientProperties: CLIENT_PROPERTIES(this.options.name),
            mechanism: 'PLAIN',
            response: Buffer.from(`\0${this.options.user}\0${this.options.pass}`),
            locale: 'en_US',
          },
          0,
        );
        return;
      case CONNECTION_CLOSE:
        this.send({ id: CONNECTION_CLOSE_OK }, 0);
        this.fail(new Error(`connection.close ${m.replyCode} ${m.replyText}`));
        return;
      case CHANNEL_CLOSE:
        this.send({ id: CHANNEL_CLOSE_OK });
        this.fail(new Error(`channel.close ${m.replyCode} ${m.replyText}`));
        return;
      case BASIC_CANCEL:
        this.fail(new Error(`the broker cancelled consumer ${m.consumerTag}`));
        return;
      case CONNECTION_BLOCKED:
      case CONNECTION_UNBLOCKED:
        this.onBlocked?.(m.id === CONNECTION_BLOCKED);
        return;
    }
    const p = this.pending;
    if (p && p.expect === m.id) {
      this.pending = undefined;
      p.resolve(m);
    }
  }

  onContentHeader(_channel: number, payload: Buffer): void {
    // body-size longlong at offset 4; bodies of 2^32 octets or more are out of scope for a load test.
    this.dRemaining = payload.readUInt32BE(8);
    this.dFirst = true;
  }

  onBody(_channel: number, payload: Buffer): void {
    if (this.dRemaining < 0) return;
    if (this.dFirst) {
      // The first body frame holds at least 16 octets: frame-max >= 4096 and bodies >= 16.
      this.dFirst = false;
      this.dSendNs = payload.length >= 8 ? payload.readUInt32BE(0) * TWO_32 + payload.readUInt32BE(4) : 0;
    }
    this.dRemaining -= payload.length;
    if (this.dRemaining <= 0) {
      this.dRemaining = -1;
      this.onDelivery?.(this.dTag, this.dSendNs, this.recvNs);
    }
  }

  onHeartbeat(): void {
    // Heartbeats are negotiated off; a broker sending one anyway needs no answer.
  }
}

function CLIENT_PROPERTIES(name: string): FieldTable {
  return {
    product: 'warren-perf',
    connection_name: name,
    capabilities: {
      publisher_confirms: true,
      'connection.blocked': true,
      consumer_cancel_notify: true,
    },
  };
}
