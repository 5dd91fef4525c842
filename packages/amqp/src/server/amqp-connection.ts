import {
  brokerShutdown,
  isWarrenError,
  ReadPauses,
  WarrenError,
  type Broker,
  type Connection,
  type FieldTable,
  type Limits,
  type Logger,
  type Transport,
  type TransportSession,
  type User,
} from '@warren/core';
import { FRAME_MIN_SIZE, FrameReader, PROTOCOL_HEADER, type FrameHandler } from '../codec/frame-reader';
import { FrameWriter, HEARTBEAT_FRAME } from '../codec/frame-writer';
import {
  CHANNEL_CLOSE,
  CHANNEL_CLOSE_OK,
  CHANNEL_OPEN,
  CONNECTION_BLOCKED,
  CONNECTION_CLOSE,
  CONNECTION_CLOSE_OK,
  CONNECTION_OPEN,
  CONNECTION_OPEN_OK,
  CONNECTION_START,
  CONNECTION_START_OK,
  CONNECTION_TUNE,
  CONNECTION_TUNE_OK,
  CONNECTION_UNBLOCKED,
  CONNECTION_UPDATE_SECRET,
  CONNECTION_UPDATE_SECRET_OK,
  CONNECTION_SECURE_OK,
  type Method,
} from '../codec/generated/methods';
import { decodeMethodFrame, methodName } from '../codec/method-frame';
import { clipShortstr } from '../codec/primitives';
import { AmqpChannel } from './amqp-channel';
import type { ChannelHost } from './channel-host';
import { OutboundBatch } from './outbound-batch';
import { FrameKind, type ParkedFrame } from './parked-frames';
import { DEFAULT_MECHANISMS, login, offeredMechanisms } from './auth';
import { checkTuneOk, connectionName, openCore } from './handshake';
import { clientCapabilities, serverProperties, type ClientCapabilities } from './server-properties';

/** Connection states, in handshake order (spec 2.2.4). */
const enum State {
  /** Waiting for the client's protocol header. */
  Header,
  /** connection.start sent; waiting for start-ok. */
  Start,
  /** connection.tune sent; waiting for tune-ok. */
  Tune,
  /** Tuned; waiting for connection.open. */
  Open,
  /** Open: channels may be used. */
  Running,
  /** We sent connection.close; only close-ok (or the peer's close) is read now. */
  Closing,
  Closed,
}

/** How long a peer has to answer our connection.close before the socket is cut. */
const CLOSE_TIMEOUT_MS = 3000;

export interface AmqpConnectionOptions {
  broker: Broker;
  logger: Logger;
  limits: Limits;
  /** The product name reported in connection.start's server properties; default 'Warren'. */
  product?: string;
  version: string;
  /** SASL mechanisms in the order offered (RabbitMQ's auth_mechanisms); default PLAIN, AMQPLAIN. */
  authMechanisms?: readonly string[];
  /** Called once the socket is gone, so the listener can forget it. */
  onClosed: (c: AmqpConnection) => void;
}

/**
 * One AMQP 0-9-1 client connection: the handshake, channel 0, heartbeats, the channel table, and the byte
 * stream in both directions, over any Transport (a TCP socket in the listener, an in-memory pair in tests and
 * fuzzers). Frames come in through the FrameReader synchronously; replies and deliveries are gathered in `out`
 * and leave in one corked write per turn.
 *
 * Fault isolation (docs/fault-isolation.md): every entry point that runs for this client (transport data, the
 * flush tick, the heartbeat timer, deliveries and confirms raised by the core) catches what it throws and closes
 * this connection only, with 541 INTERNAL_ERROR for anything that is not a protocol error.
 */
export class AmqpConnection implements FrameHandler, ChannelHost, TransportSession {
  readonly reader: FrameReader;
  readonly writer = new FrameWriter(FRAME_MIN_SIZE);
  readonly channels = new Map<number, AmqpChannel>();
  log: Logger;
  core: Connection | undefined = undefined;
  capabilities: ClientCapabilities = { consumerCancelNotify: false, connectionBlocked: false };
  /** What the client said of itself in start-ok: the management API shows it as client_properties. */
  private clientProperties: FieldTable = {};
  /** Why the socket is not read: a resource alarm (this connection publishes), frames parked past their cap. */
  private readonly pauses: ReadPauses;
  /** Bytes of frames parked behind topology claims on this connection's channels (see AmqpChannel.parked). */
  private parkedBytes = 0;
  private state = State.Header;
  private user: User | undefined = undefined;
  /** What connection.start offered; start-ok must pick one of them. */
  private readonly mechanisms: readonly string[];
  private channelMax: number;
  private heartbeatMs = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined = undefined;
  private closeTimer: NodeJS.Timeout | undefined = undefined;
  /** Until connection.open-ok: a peer that never finishes its handshake is cut (RabbitMQ's handshake_timeout). */
  private handshakeTimer: NodeJS.Timeout | undefined = undefined;
  private lastRead = Date.now();
  /** What is written to the client, once per turn. */
  private readonly batch: OutboundBatch;
  private unsubscribeAlarm: (() => void) | undefined = undefined;
  /** The client sent connection.close (not a vanished socket, an error or a shutdown): for the log. */
  private closedByClient = false;

  constructor(
    readonly transport: Transport,
    readonly options: AmqpConnectionOptions,
  ) {
    this.channelMax = options.limits.channelMax;
    this.mechanisms = offeredMechanisms(options.authMechanisms ?? DEFAULT_MECHANISMS, transport);
    this.reader = new FrameReader(this, { frameMax: FRAME_MIN_SIZE });
    this.batch = new OutboundBatch(
      transport,
      (octets, ok) => this.written(octets, ok),
      (fn) => this.guard(fn),
    );
    // Unread, the client's heartbeats are not seen: the monitor starts afresh once reading resumes.
    this.pauses = new ReadPauses(transport, (paused) => {
      if (!paused) this.lastRead = Date.now();
    });
    this.log = options.logger.child({ client: `${transport.remoteAddress || '?'}:${transport.remotePort}` });
    const timeout = options.limits.handshakeTimeoutMs;
    if (timeout > 0) {
      this.handshakeTimer = setTimeout(() => this.guard(() => this.handshakeTimedOut(timeout)), timeout);
      this.handshakeTimer.unref();
    }
  }

  private handshakeTimedOut(timeoutMs: number): void {
    this.handshakeTimer = undefined;
    if (this.state === State.Running || this.state === State.Closed) return;
    this.log.warn({ timeoutMs }, 'handshake timed out; closing');
    this.state = State.Closed;
    this.transport.destroy();
  }

  get broker(): Broker {
    return this.options.broker;
  }

  get limits(): Limits {
    return this.options.limits;
  }

  // ---- transport events (TransportSession) ------------------------------------------------------------

  receive(chunk: Buffer): void {
    this.lastRead = Date.now();
    const stats = this.core?.stats;
    if (stats !== undefined) {
      stats.recvOct += chunk.length;
      stats.recvCnt++;
    }
    try {
      this.reader.push(chunk);
    } catch (e) {
      // Framing errors (the reader) and errors escaping a handler: both are the connection's end.
      this.fail(e, 0);
    }
  }

  drained(): void {
    this.guard(() => this.core?.setWritable(true));
  }

  transportClosed(): void {
    try {
      this.onTransportClosed();
    } catch (e) {
      // The connection is gone already; whatever broke in its teardown is logged, and nobody else is touched.
      this.log.error({ err: e, connection: this.core?.id }, 'internal error while closing the connection');
    }
  }

  /**
   * Runs `fn` on this connection's behalf from outside its input handler (a timer, a store callback, the core):
   * whatever it throws closes this connection, never the caller's.
   */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fault(e);
    }
  }

  /** A failure outside a frame handler: closes this connection (541 unless it is a protocol error). */
  fault(e: unknown): void {
    if (this.state === State.Closed) return;
    this.fail(e, 0);
  }

  onProtocolHeader(accepted: boolean): void {
    if (!accepted) {
      // Spec 4.2.2: answer an unsupported header with the one we speak, then close.
      this.transport.write(PROTOCOL_HEADER);
      this.transport.end();
      this.state = State.Closed;
      return;
    }
    this.state = State.Start;
    this.send(0, {
      id: CONNECTION_START,
      versionMajor: 0,
      versionMinor: 9,
      serverProperties: serverProperties(this.options.product ?? 'Warren', this.options.version),
      mechanisms: Buffer.from(this.mechanisms.join(' ')),
      locales: Buffer.from('en_US'),
    });
  }

  onMethod(channel: number, payload: Buffer): void {
    let m: Method | undefined;
    try {
      if (this.state === State.Running && channel !== 0) {
        const ch = this.channels.get(channel);
        if (ch !== undefined) {
          if (ch.parked !== undefined) return this.park(ch.parked, FrameKind.Method, payload);
          m = decodeMethodFrame(payload);
          return ch.onMethod(m);
        }
      }
      m = decodeMethodFrame(payload);
      if (this.state === State.Closing) return this.whileClosing(channel, m);
      if (channel === 0) return this.onConnectionMethod(m);
      if (this.state !== State.Running) {
        throw new WarrenError('COMMAND_INVALID', `channel ${channel} used before connection.open`);
      }
      const ch = this.channels.get(channel);
      if (ch === undefined) return this.openChannel(channel, m);
      ch.onMethod(m);
    } catch (e) {
      this.fail(e, channel, m);
    }
  }

  onContentHeader(channel: number, payload: Buffer): void {
    if (this.state === State.Closing) return;
    try {
      const ch = this.requireChannel(channel);
      if (ch.parked !== undefined) return this.park(ch.parked, FrameKind.ContentHeader, payload);
      ch.onContentHeader(payload);
    } catch (e) {
      this.fail(e, channel);
    }
  }

  onBody(channel: number, payload: Buffer): void {
    if (this.state === State.Closing) return;
    try {
      const ch = this.requireChannel(channel);
      if (ch.parked !== undefined) return this.park(ch.parked, FrameKind.Body, payload);
      ch.onBody(payload);
    } catch (e) {
      this.fail(e, channel);
    }
  }

  onHeartbeat(): void {
    // Liveness is any inbound byte (lastRead); nothing else to do.
  }

  // ---- parked channels (topology claims) ----------------------------------------------------------------

  /**
   * A frame for a channel waiting on a topology claim: copied (it is a view into a socket chunk) and queued.
   * Past maxParkedBytes the socket is not read until the claims settle and the queues drain.
   */
  private park(parked: ParkedFrame[], kind: FrameKind, payload: Buffer): void {
    parked.push({ kind, payload: Buffer.from(payload) });
    this.parkedBytes += payload.length;
    if (this.parkedBytes > this.limits.maxParkedBytes && this.pauses.pause('parked')) {
      this.log.debug({ parkedBytes: this.parkedBytes }, 'reading paused behind topology claims');
    }
  }

  replayParked(channel: number, frames: readonly ParkedFrame[]): void {
    for (const f of frames) {
      this.parkedBytes -= f.payload.length;
      // Through the same handlers as a socket's frames: a replayed frame may park the channel again (another
      // claim), and then the ones after it are parked again, in order.
      if (f.kind === FrameKind.Method) this.onMethod(channel, f.payload);
      else if (f.kind === FrameKind.ContentHeader) this.onContentHeader(channel, f.payload);
      else this.onBody(channel, f.payload);
    }
    this.resumeIfDrained();
  }

  releaseParked(frames: readonly ParkedFrame[]): void {
    for (const f of frames) this.parkedBytes -= f.payload.length;
    this.resumeIfDrained();
  }

  private resumeIfDrained(): void {
    if (this.parkedBytes <= this.limits.maxParkedBytes && this.state !== State.Closed)
      this.pauses.resume('parked');
  }

  failChannel(channel: number, e: unknown, m?: Method): void {
    if (this.state === State.Closed) return;
    this.fail(e, channel, m);
  }

  // ---- channel 0 --------------------------------------------------------------------------------------

  private onConnectionMethod(m: Method): void {
    switch (m.id) {
      case CONNECTION_START_OK: {
        this.expect(State.Start, m);
        this.capabilities = clientCapabilities(m.clientProperties);
        this.clientProperties = m.clientProperties;
        const name = connectionName(m.clientProperties);
        if (name !== undefined) this.log = this.log.child({ connectionName: name });
        this.user = login(this.broker, this.transport, this.mechanisms, m.mechanism, m.response, this.log);
        this.state = State.Tune;
        this.send(0, {
          id: CONNECTION_TUNE,
          channelMax: this.limits.channelMax,
          frameMax: this.limits.frameMax,
          heartbeat: this.limits.heartbeatSeconds,
        });
        return;
      }
      case CONNECTION_SECURE_OK:
        // PLAIN and AMQPLAIN never send connection.secure, so a secure-ok is out of place.
        throw new WarrenError('COMMAND_INVALID', 'unexpected connection.secure-ok');
      case CONNECTION_TUNE_OK: {
        this.expect(State.Tune, m);
        checkTuneOk(m, this.limits);
        this.channelMax = m.channelMax;
        this.reader.setFrameMax(m.frameMax);
        this.writer.setFrameMax(m.frameMax);
        this.startHeartbeat(m.heartbeat);
        this.state = State.Open;
        return;
      }
      case CONNECTION_OPEN: {
        this.expect(State.Open, m);
        const user = this.user as User;
        this.core = openCore(
          this.broker,
          this.transport,
          user,
          m.virtualHost,
          this.clientProperties,
          this.log,
        );
        // Deliveries, confirms and store callbacks the core runs for this connection fail into it, not the caller.
        this.core.onFault = (e) => this.fault(e);
        // An operator's close (management API, deleted user or vhost): RabbitMQ's 320 with the reason.
        this.core.onForcedClose = (e) => this.closeWithError(e);
        this.log = this.log.child({ connection: this.core.id });
        this.state = State.Running;
        if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
        this.handshakeTimer = undefined;
        this.unsubscribeAlarm = this.broker.alarms.onChange((blocked) =>
          this.guard(() => this.onAlarm(blocked)),
        );
        this.log.info({ user: user.name, vhost: m.virtualHost }, 'connection opened');
        this.send(0, { id: CONNECTION_OPEN_OK, knownHosts: '' });
        return;
      }
      case CONNECTION_CLOSE:
        // The client closes: everything of ours goes (unacked messages back to their queues), then close-ok,
        // once what it published is stored (a cluster's streams have it): a client that closed cleanly and a
        // client that asks next, through any node, agree on what is in the queues.
        this.closedByClient = true;
        this.core?.close();
        this.state = State.Closed;
        this.afterStored(() => {
          this.send(0, { id: CONNECTION_CLOSE_OK });
          this.batch.flush();
          this.transport.end();
        });
        return;
      case CONNECTION_UPDATE_SECRET:
        this.send(0, { id: CONNECTION_UPDATE_SECRET_OK });
        return;
      case CONNECTION_BLOCKED:
      case CONNECTION_UNBLOCKED:
        return; // a client may tell us it is blocked; nothing for the server to do
      default:
        throw new WarrenError('COMMAND_INVALID', `unexpected method ${methodName(m)} on channel 0`);
    }
  }

  private openChannel(id: number, m: Method): void {
    if (m.id !== CHANNEL_OPEN) {
      throw new WarrenError(
        'CHANNEL_ERROR',
        `expected 'channel.open' on channel ${id}, got ${methodName(m)}`,
      );
    }
    if (id > this.channelMax) {
      throw new WarrenError(
        'NOT_ALLOWED',
        `channel ${id} is above the negotiated channel_max (${this.channelMax})`,
      );
    }
    const ch = new AmqpChannel(this, id);
    this.channels.set(id, ch);
    ch.opened();
  }

  private requireChannel(id: number): AmqpChannel {
    const ch = this.channels.get(id);
    if (ch === undefined) throw new WarrenError('CHANNEL_ERROR', `expected 'channel.open' on channel ${id}`);
    return ch;
  }

  private expect(state: State, m: Method): void {
    if (this.state !== state) throw new WarrenError('COMMAND_INVALID', `unexpected method ${methodName(m)}`);
  }

  /** After we sent connection.close: spec 2.2.4, discard everything but close and close-ok. */
  private whileClosing(channel: number, m: Method): void {
    if (channel !== 0) return;
    if (m.id === CONNECTION_CLOSE_OK) this.transport.end();
    else if (m.id === CONNECTION_CLOSE) {
      this.send(0, { id: CONNECTION_CLOSE_OK });
      this.batch.flush();
      this.transport.end();
    }
  }

  // ---- errors -----------------------------------------------------------------------------------------

  /**
   * Routes a failure: a channel-scoped WarrenError closes that channel only; anything else closes the
   * connection with its reply code (unknown exceptions as 541 INTERNAL_ERROR, logged).
   */
  private fail(e: unknown, channel: number, m?: Method): void {
    if (!isWarrenError(e)) {
      this.log.error({ err: e, connection: this.core?.id }, 'internal error; closing this connection');
      e = new WarrenError('INTERNAL_ERROR', 'internal error');
    }
    const err = e as WarrenError;
    const ch = channel === 0 ? undefined : this.channels.get(channel);
    if (err.scope === 'channel' && ch !== undefined && this.state === State.Running) {
      ch.fail(err, m);
      return;
    }
    this.closeWithError(err, m);
  }

  /** Server-initiated close (spec 2.2.4): connection.close, then wait for close-ok; cut after a timeout. */
  closeWithError(err: WarrenError, m?: Method): void {
    if (this.state === State.Closing || this.state === State.Closed) return;
    this.log.warn({ code: err.replyCode, reason: err.message }, 'closing connection on error');
    this.state = State.Closing;
    this.reader.setFrameMax(Math.max(this.limits.frameMax, FRAME_MIN_SIZE));
    this.core?.close();
    this.send(0, {
      id: CONNECTION_CLOSE,
      replyCode: err.replyCode,
      replyText: clipShortstr(err.replyText),
      classId: m === undefined ? 0 : m.id >>> 16,
      methodId: m === undefined ? 0 : m.id & 0xffff,
    });
    this.batch.flush();
    this.closeTimer = setTimeout(() => this.transport.destroy(), CLOSE_TIMEOUT_MS);
    this.closeTimer.unref();
  }

  /** The broker is going away: RabbitMQ's 320 CONNECTION_FORCED. */
  shutdown(): void {
    if (this.state === State.Running || this.state === State.Open || this.state === State.Tune) {
      this.closeWithError(brokerShutdown());
    } else {
      this.transport.destroy();
    }
  }

  private onTransportClosed(): void {
    this.batch.close();
    if (this.core !== undefined) {
      this.log.info({}, this.closedByClient ? 'connection closed by client' : 'connection closed');
    }
    this.state = State.Closed;
    this.reader.close();
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.unsubscribeAlarm?.();
    // A client that vanished (killed worker): its unacked deliveries go back to their queues now.
    this.core?.close();
    // Frames parked behind claims go with the connection.
    for (const ch of this.channels.values()) ch.parked = undefined;
    this.channels.clear();
    this.options.onClosed(this);
  }

  // ---- channels ---------------------------------------------------------------------------------------

  /** A channel finished its close handshake; its number may be reused. */
  forgetChannel(id: number): void {
    this.channels.delete(id);
  }

  sendChannelClose(channel: number, err: WarrenError, m?: Method): void {
    this.send(channel, {
      id: CHANNEL_CLOSE,
      replyCode: err.replyCode,
      replyText: clipShortstr(err.replyText),
      classId: m === undefined ? 0 : m.id >>> 16,
      methodId: m === undefined ? 0 : m.id & 0xffff,
    });
  }

  sendChannelCloseOk(channel: number): void {
    this.send(channel, { id: CHANNEL_CLOSE_OK });
  }

  // ---- output -----------------------------------------------------------------------------------------

  send(channel: number, m: Method): void {
    this.push(this.writer.method(channel, m));
  }

  /** Appends a frame (or frames) to the outbound batch; the batch is written once per turn. */
  push(chunk: Buffer): void {
    this.batch.push(chunk);
  }

  /** The outbound batch itself, for frame writers that append many chunks. Call scheduleFlush after. */
  get outbound(): Buffer[] {
    return this.batch.chunks;
  }

  scheduleFlush(): void {
    this.batch.schedule();
  }

  /**
   * Runs `fn` (guarded) once everything this connection's vhost was given so far is stored, or after
   * CLOSE_STORE_WAIT_MS if the store does not say so by then (it failed, or a cluster node lost NATS): a
   * closing client is not kept waiting on a store that may never answer.
   */
  private afterStored(fn: () => void): void {
    const persistence = this.core?.vhost.persistence;
    if (persistence === undefined) return this.guard(fn);
    let done = false;
    const once = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.guard(fn);
    };
    const timer = setTimeout(once, CLOSE_STORE_WAIT_MS);
    timer.unref();
    persistence.afterSync(once);
  }

  /** The management API's send figures; deliveries pause while the socket is backed up. */
  private written(octets: number, ok: boolean): void {
    const stats = this.core?.stats;
    if (stats !== undefined) {
      stats.sendOct += octets;
      stats.sendCnt++;
    }
    if (!ok) this.core?.setWritable(false);
  }

  // ---- heartbeats and the memory alarm ----------------------------------------------------------------

  private startHeartbeat(seconds: number): void {
    if (seconds === 0) return;
    this.heartbeatMs = seconds * 1000;
    // Tick at half the interval: send a heartbeat if we wrote nothing since the last tick, and drop a peer
    // silent for two full intervals (RabbitMQ's rule).
    this.heartbeatTimer = setInterval(() => this.guard(() => this.heartbeatTick()), this.heartbeatMs / 2);
    this.heartbeatTimer.unref();
  }

  private heartbeatTick(): void {
    // Blocked, the socket is not read, so the client's heartbeats are not seen: RabbitMQ pauses the monitor too.
    if (!this.pauses.paused && Date.now() - this.lastRead > 2 * this.heartbeatMs) {
      this.log.warn(
        { timeoutSeconds: (2 * this.heartbeatMs) / 1000 },
        'missed heartbeats from client, closing',
      );
      this.transport.destroy();
      return;
    }
    if (this.batch.quiet()) this.transport.write(HEARTBEAT_FRAME);
  }

  /** A publish arrived while a resource alarm is on: stop reading this connection (RabbitMQ's blocking). */
  blockIfAlarm(): void {
    const alarms = this.broker.alarms;
    if (!alarms.blocked || !this.pauses.pause('alarm')) return;
    this.log.info({ reason: alarms.reason }, 'connection blocked by a resource alarm');
    if (this.capabilities.connectionBlocked) this.send(0, { id: CONNECTION_BLOCKED, reason: alarms.reason });
  }

  private onAlarm(blocked: boolean): void {
    if (blocked || this.state === State.Closed || !this.pauses.resume('alarm')) return;
    if (this.capabilities.connectionBlocked) this.send(0, { id: CONNECTION_UNBLOCKED });
  }
}

/** How long connection.close-ok waits for what the connection published to be stored. */
const CLOSE_STORE_WAIT_MS = 5000;
