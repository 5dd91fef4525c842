import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import {
  BASIC_ACK,
  BASIC_CONSUME,
  BASIC_CONSUME_OK,
  BASIC_DELIVER,
  BASIC_PUBLISH,
  BASIC_QOS,
  BASIC_QOS_OK,
  CHANNEL_CLOSE,
  CHANNEL_OPEN,
  CHANNEL_OPEN_OK,
  CONNECTION_CLOSE,
  CONNECTION_CLOSE_OK,
  CONNECTION_OPEN,
  CONNECTION_OPEN_OK,
  CONNECTION_START,
  CONNECTION_START_OK,
  CONNECTION_TUNE,
  CONNECTION_TUNE_OK,
  FRAME_MIN_SIZE,
  FrameReader,
  FrameWriter,
  PROTOCOL_HEADER,
  QUEUE_DECLARE,
  QUEUE_DECLARE_OK,
  decodeMethodFrame,
  listenAmqp,
  type Method,
} from '@warren/amqp';
import { Broker, silentLogger, type Limits, type Logger, type MessageProperties } from '@warren/core';
import { Journal } from '@warren/journal';
import { listenStomp } from '@warren/stomp';
import { listenStompWs } from '@warren/stomp-ws';
import { WebSocket } from 'ws';

/**
 * Start-up warm-up. A fresh V8 runs Warren's per-message code in its interpreter and baseline tiers until it has
 * seen enough of it to optimise, so a new broker used to answer its first seconds of traffic with millisecond
 * p99 latencies (docs/benchmarks.md, "Cold start"). Before the real listeners open, `warren start` pushes paced
 * ping-pong traffic — one message per socket read, as a latency-bound client sends — through every protocol
 * over real loopback sockets. The traffic goes to a throwaway broker of its own (in memory, private
 * listeners on 127.0.0.1 port 0, a random password), so nothing of it shows in the real broker's queues,
 * counters, journal or logs: the code is shared, the state is not.
 *
 * A warm-up that fails or overruns its deadline is abandoned with a warning; it never stops a start.
 */

export interface WarmUpOptions {
  /**
   * Where the private broker keeps its journal (a directory the warm-up creates, empties and removes), so the
   * store's code warms too; without it the private broker keeps everything in memory.
   */
  journalDir?: string;
  /** Round trips per protocol; half through an auto-ack consumer (16 B), half acked one by one (1 KiB). */
  roundTrips?: number;
  /** Connections per protocol, one after another, that share the round trips. */
  cycles?: number;
  /** The whole warm-up gives up after this long. */
  deadlineMs?: number;
  limits?: Partial<Limits>;
}

export interface WarmUpReport {
  /** Milliseconds the warm-up took. */
  ms: number;
  /** Round trips completed per protocol. */
  roundTrips: Record<'amqp' | 'stomp' | 'ws', number>;
}

/** Enough for V8 to optimise the per-message path of every protocol; about 0.2 s each on 2 vCPUs. */
const DEFAULT_ROUND_TRIPS = 3000;
const DEFAULT_CYCLES = 3;
const DEFAULT_DEADLINE_MS = 10_000;
const USER = 'warm-up';
const SMALL = Buffer.alloc(16, 0x61);
/** Not UTF-8 (0xff never is), so STOMP over WebSocket takes its binary-frame path for it too. */
const LARGE = Buffer.alloc(1024, 0xff);

/**
 * The property shapes clients send, in turn: a bare publish (the load harness, amqplib's defaults), transient
 * and persistent with content type and headers (pika, kombu), message id and timestamp (Spring, Celery).
 * Several shapes make the code's inline caches polymorphic now rather than deoptimise at the first client.
 */
const AMQP_PROPERTIES: readonly MessageProperties[] = [
  {},
  { deliveryMode: 1 },
  { deliveryMode: 2, contentType: 'application/json', headers: { 'x-warm-up': 1, trace: 'a' } },
  { contentType: 'text/plain', messageId: 'warm-up', timestamp: 1_700_000_000, priority: 0 },
];

/** The same for STOMP SEND: bare with content-length, typed, persistent with a receipt, custom headers. */
const STOMP_HEADERS: readonly string[] = [
  '',
  'content-type:text/plain\n',
  'persistent:true\nreceipt:r\n',
  'content-type:application/json\ncorrelation-id:c\nx-trace:abc\n',
];

/** One protocol's client: connects, then sends one message and resolves once it came back (acked if asked). */
interface WarmClient {
  open(): Promise<void>;
  /** The i-th round trip: odd ones go to the acking consumer. */
  roundTrip(i: number): Promise<void>;
  /** Says goodbye as a client does (connection.close, DISCONNECT) and resolves once the socket is gone. */
  close(): Promise<void>;
}

export async function warmUp(
  options: WarmUpOptions = {},
  logger: Logger = silentLogger,
): Promise<WarmUpReport> {
  const {
    roundTrips = DEFAULT_ROUND_TRIPS,
    cycles = DEFAULT_CYCLES,
    deadlineMs = DEFAULT_DEADLINE_MS,
  } = options;
  const started = performance.now();
  const password = randomBytes(18).toString('base64url');
  const { journalDir } = options;
  let store: Journal | undefined;
  if (journalDir !== undefined) {
    await rm(journalDir, { recursive: true, force: true });
    // Without fdatasync: the JavaScript of every group commit runs, the disk is spared the waits.
    store = await Journal.open({ dir: journalDir, fsync: false, diskFreeLimit: 0 }).catch(() => undefined);
  }
  const broker = new Broker({
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(store === undefined ? {} : { store }),
    defaultUser: { name: USER, password },
  });
  const report: WarmUpReport = { ms: 0, roundTrips: { amqp: 0, stomp: 0, ws: 0 } };
  const clients: WarmClient[] = [];
  const listeners: { close(): Promise<void> }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let abandoned = false;
  try {
    await broker.start();
    const common = { broker, host: '127.0.0.1', port: 0, logger: silentLogger };
    const amqp = await listenAmqp({ ...common, limits: broker.limits });
    listeners.push(amqp);
    const stomp = await listenStomp(common);
    listeners.push(stomp);
    const ws = await listenStompWs({ ...common, path: '/ws', staticDir: null });
    listeners.push(ws);
    const plan: [keyof WarmUpReport['roundTrips'], () => WarmClient][] = [
      ['amqp', () => new AmqpWarmClient(amqp.address.port, password)],
      ['stomp', () => new StompWarmClient(new TcpWire(stomp.address.port), password)],
      ['ws', () => new StompWarmClient(new WsWire(ws.address.port), password)],
    ];
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not done after ${deadlineMs} ms`)), deadlineMs);
    });
    // Closing a connection runs code the traffic did not, and V8 deoptimises the hot functions that share it;
    // a client's first run after the warm-up would pay for their recompilation. So every protocol gets several
    // connections in turn, and the last ones see code already optimised with the close paths' feedback in it.
    const run = async () => {
      for (let cycle = 0; cycle < cycles; cycle++) {
        for (const [protocol, makeClient] of plan) {
          if (abandoned) return;
          const client = makeClient();
          clients.push(client);
          await client.open();
          for (let i = 0; i < roundTrips / cycles; i++) {
            await client.roundTrip(i);
            report.roundTrips[protocol]++;
          }
          await client.close();
        }
      }
    };
    await Promise.race([run(), overrun]);
  } catch (err) {
    abandoned = true;
    logger.warn({ err, done: report.roundTrips }, 'warm-up abandoned; the broker starts cold');
  } finally {
    clearTimeout(timer);
    await Promise.allSettled(clients.map((client) => client.close()));
    await Promise.allSettled(listeners.map((l) => l.close()));
    await broker.close().catch(() => {});
    if (journalDir !== undefined) await rm(journalDir, { recursive: true, force: true }).catch(() => {});
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}

/** A pending round trip: settled by the delivery, or by the connection failing. */
class Pending {
  private resolve: (() => void) | undefined;
  private reject: ((err: Error) => void) | undefined;

  wait(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  done(): void {
    const resolve = this.resolve;
    this.resolve = this.reject = undefined;
    resolve?.();
  }

  fail(err: Error): void {
    const reject = this.reject;
    this.resolve = this.reject = undefined;
    reject?.(err);
  }
}

/**
 * AMQP 0-9-1 with Warren's own codec: channel 1 consumes with no-ack, channel 2 with manual acks and
 * prefetch 100, as the benchmark rows do.
 */
class AmqpWarmClient implements WarmClient {
  private readonly socket: Socket;
  private readonly writer = new FrameWriter(FRAME_MIN_SIZE);
  private readonly reader: FrameReader;
  private readonly replies = new Map<number, Pending>();
  private readonly delivered = new Pending();
  private static clients = 0;
  private ackNext = 0;
  private readonly id = ++AmqpWarmClient.clients;
  private failure: Error | undefined;

  constructor(
    port: number,
    private readonly password: string,
  ) {
    this.reader = new FrameReader(
      {
        onProtocolHeader: () => {},
        onMethod: (channel, payload) => this.onMethod(channel, payload),
        onContentHeader: () => {},
        onBody: (channel) => this.onBody(channel),
        onHeartbeat: () => {},
      },
      { expectProtocolHeader: false },
    );
    this.socket = connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk) => this.reader.push(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.closed = new Promise((resolve) => this.socket.once('close', resolve));
    this.socket.on('close', () => this.fail(new Error('AMQP warm-up connection closed')));
  }

  private readonly closed: Promise<unknown>;

  async open(): Promise<void> {
    const start = this.expect(CONNECTION_START);
    this.socket.write(PROTOCOL_HEADER);
    await start;
    const tune = this.expect(CONNECTION_TUNE);
    this.send(0, {
      id: CONNECTION_START_OK,
      clientProperties: { product: 'warren warm-up' },
      mechanism: 'PLAIN',
      response: Buffer.from(`\0${USER}\0${this.password}`),
      locale: 'en_US',
    });
    await tune;
    this.send(0, { id: CONNECTION_TUNE_OK, channelMax: 2, frameMax: FRAME_MIN_SIZE, heartbeat: 0 });
    await this.call(
      0,
      { id: CONNECTION_OPEN, virtualHost: '/', capabilities: '', insist: false },
      CONNECTION_OPEN_OK,
    );
    for (const channel of [1, 2]) {
      const noAck = channel === 1;
      const queue = this.queueName(channel);
      await this.call(channel, { id: CHANNEL_OPEN, outOfBand: '' }, CHANNEL_OPEN_OK);
      if (!noAck) {
        await this.call(
          channel,
          { id: BASIC_QOS, prefetchSize: 0, prefetchCount: 100, global: false },
          BASIC_QOS_OK,
        );
      }
      const declare = { ticket: 0, passive: false, durable: false, exclusive: true, autoDelete: false };
      await this.call(
        channel,
        { id: QUEUE_DECLARE, queue, ...declare, noWait: false, arguments: {} },
        QUEUE_DECLARE_OK,
      );
      const consume = { ticket: 0, queue, consumerTag: '', noLocal: false, exclusive: false, noWait: false };
      await this.call(channel, { id: BASIC_CONSUME, ...consume, noAck, arguments: {} }, BASIC_CONSUME_OK);
    }
  }

  roundTrip(i: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const acked = i % 2 === 1;
    const channel = acked ? 2 : 1;
    const out: Buffer[] = [];
    const routingKey = this.queueName(channel);
    const publish = { ticket: 0, exchange: '', routingKey, mandatory: false, immediate: false };
    const props = AMQP_PROPERTIES[(i >> 1) % AMQP_PROPERTIES.length] as MessageProperties;
    this.writer.message(channel, { id: BASIC_PUBLISH, ...publish }, props, acked ? LARGE : SMALL, out);
    const wait = this.delivered.wait();
    this.socket.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
    return wait;
  }

  async close(): Promise<void> {
    if (!this.socket.destroyed) {
      const closing = {
        id: CONNECTION_CLOSE,
        replyCode: 200,
        replyText: 'warm-up done',
        classId: 0,
        methodId: 0,
      } as const;
      await this.call(0, closing, CONNECTION_CLOSE_OK).catch(() => {});
      this.socket.end();
    }
    await this.closed;
  }

  /** Exclusive queues of a connection just closed may outlive it by a turn: each client has its own names. */
  private queueName(channel: number): string {
    return `warm-up-${this.id}-${channel}`;
  }

  private onMethod(channel: number, payload: Buffer): void {
    const method = decodeMethodFrame(payload);
    if (method.id === CONNECTION_CLOSE || method.id === CHANNEL_CLOSE) {
      this.fail(new Error(`AMQP warm-up: the broker closed channel ${channel}: ${method.replyText}`));
      this.socket.destroy();
      return;
    }
    // basic.deliver: remember its tag; the delivery is complete with its (single) body frame.
    if (method.id === BASIC_DELIVER && channel === 2) this.ackNext = method.deliveryTag;
    const pending = this.replies.get(method.id);
    if (pending !== undefined) {
      this.replies.delete(method.id);
      pending.done();
    }
  }

  private onBody(channel: number): void {
    if (channel === 2) this.send(2, { id: BASIC_ACK, deliveryTag: this.ackNext, multiple: false });
    this.delivered.done();
  }

  private expect(id: number): Promise<void> {
    const pending = new Pending();
    this.replies.set(id, pending);
    return pending.wait();
  }

  private call(channel: number, method: Method, reply: number): Promise<void> {
    const wait = this.expect(reply);
    this.send(channel, method);
    return wait;
  }

  private send(channel: number, method: Method): void {
    if (!this.socket.destroyed) this.socket.write(this.writer.method(channel, method));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const pending of this.replies.values()) pending.fail(err);
    this.replies.clear();
    this.delivered.fail(err);
  }
}

/** How a STOMP warm-up client reaches the broker: frames out, whole frames in. */
interface StompWire {
  open(onFrame: (frame: string) => void, onFail: (err: Error) => void): Promise<void>;
  send(frame: string): void;
  /** Resolves once the connection is gone. */
  close(): Promise<void>;
}

/** STOMP over TCP: frames are split at their NUL (the warm-up's bodies have none, and no heart-beats run). */
class TcpWire implements StompWire {
  private socket: Socket | undefined;

  constructor(private readonly port: number) {}

  open(onFrame: (frame: string) => void, onFail: (err: Error) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.port, '127.0.0.1', () => resolve());
      this.socket = socket;
      socket.setNoDelay(true);
      socket.setEncoding('latin1');
      let partial = '';
      socket.on('data', (text: string) => {
        let start = 0;
        for (let end = text.indexOf('\0'); end >= 0; end = text.indexOf('\0', start)) {
          onFrame(partial + text.slice(start, end));
          partial = '';
          start = end + 1;
        }
        partial += text.slice(start);
      });
      socket.on('error', (err) => {
        reject(err);
        onFail(err);
      });
      socket.on('close', () => onFail(new Error('STOMP warm-up connection closed')));
    });
  }

  send(frame: string): void {
    if (this.socket !== undefined && !this.socket.destroyed) this.socket.write(frame, 'latin1');
  }

  close(): Promise<void> {
    const socket = this.socket;
    if (socket === undefined || socket.closed) return Promise.resolve();
    return new Promise((resolve) => socket.end().once('close', () => resolve()));
  }
}

/** STOMP over WebSocket: one frame per message, as @stomp/stompjs sends them. */
class WsWire implements StompWire {
  private socket: WebSocket | undefined;

  constructor(private readonly port: number) {}

  open(onFrame: (frame: string) => void, onFail: (err: Error) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${this.port}/ws`, ['v12.stomp']);
      this.socket = socket;
      socket.on('open', () => resolve());
      socket.on('message', (data: Buffer) => {
        const text = data.toString('latin1');
        onFrame(text.endsWith('\0') ? text.slice(0, -1) : text);
      });
      socket.on('error', (err) => {
        reject(err);
        onFail(err);
      });
      socket.on('close', () => onFail(new Error('STOMP over WebSocket warm-up connection closed')));
    });
  }

  send(frame: string): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    // Text frames carry UTF-8; a frame with other octets goes as a binary message, as stompjs sends one.
    const ascii = Buffer.byteLength(frame, 'latin1') === Buffer.byteLength(frame, 'utf8');
    this.socket.send(ascii ? frame : Buffer.from(frame, 'latin1'), { binary: !ascii });
  }

  close(): Promise<void> {
    const socket = this.socket;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.close();
    });
  }
}

/** STOMP 1.2: subscription 0 acks automatically (16 B), subscription 1 acks each message (1 KiB, prefetch 100). */
class StompWarmClient implements WarmClient {
  private readonly connected = new Pending();
  private readonly delivered = new Pending();
  private failure: Error | undefined;

  constructor(
    private readonly wire: StompWire,
    private readonly password: string,
  ) {}

  async open(): Promise<void> {
    await this.wire.open(
      (frame) => this.onFrame(frame),
      (err) => this.fail(err),
    );
    const connected = this.connected.wait();
    this.wire.send(`CONNECT\naccept-version:1.2\nhost:/\nlogin:${USER}\npasscode:${this.password}\n\n\0`);
    await connected;
    const subscribed = this.connected.wait();
    this.wire.send('SUBSCRIBE\nid:0\ndestination:/queue/warm-up-0\nack:auto\n\n\0');
    this.wire.send(
      'SUBSCRIBE\nid:1\ndestination:/queue/warm-up-1\nack:client-individual\nprefetch-count:100\nreceipt:s\n\n\0',
    );
    await subscribed;
  }

  roundTrip(i: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const acked = i % 2 === 1;
    const body = acked ? LARGE : SMALL;
    const headers = STOMP_HEADERS[(i >> 1) % STOMP_HEADERS.length] as string;
    const wait = this.delivered.wait();
    this.wire.send(
      `SEND\ndestination:/queue/warm-up-${acked ? 1 : 0}\n${headers}` +
        `content-length:${body.length}\n\n${body.toString('latin1')}\0`,
    );
    return wait;
  }

  close(): Promise<void> {
    if (this.failure === undefined) this.wire.send('DISCONNECT\nreceipt:bye\n\n\0');
    return this.wire.close();
  }

  private onFrame(frame: string): void {
    const command = frame.slice(0, frame.indexOf('\n'));
    if (command === 'MESSAGE') {
      if (frame.includes('\nsubscription:1\n')) {
        const ack = /\nack:([^\n]*)\n/.exec(frame)?.[1];
        if (ack !== undefined) this.wire.send(`ACK\nid:${ack}\n\n\0`);
      }
      this.delivered.done();
    } else if (command === 'CONNECTED' || command === 'RECEIPT') {
      this.connected.done();
    } else if (command === 'ERROR') {
      const message = /\nmessage:([^\n]*)\n/.exec(frame)?.[1] ?? 'no message header';
      this.fail(new Error(`STOMP warm-up got ERROR: ${message}`));
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.connected.fail(err);
    this.delivered.fail(err);
  }
}
