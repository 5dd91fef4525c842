import { randomBytes } from 'node:crypto';
import {
  brokerShutdown,
  ReadPauses,
  silentLogger,
  type Broker,
  type Channel,
  type ChannelEvents,
  type Connection,
  type Limits,
  type Logger,
} from '@warren/core';
import { FRAME_END, HEARTBEAT, type StompFrame, type StompVersion } from '../codec/frame';
import { StompParser, type StompParserHandler } from '../codec/parser';
import type { StompProtocolError } from '../codec/protocol-error';
import { serializeFrame } from '../codec/serializer';
import { Heartbeats, type HeartbeatHost } from './heartbeat';
import { acceptConnect } from './handshake';
import { ParkedFrames } from './parked-frames';
import { SUPPORTED } from './negotiate';
import { Receipts, type ReceiptSink } from './receipts';
import { MessagingCommands, type PreparedSubscription, type SendOutcome } from './messaging-commands';
import { StompFailure, toFailure } from './stomp-failure';
import type { MessageWriter, Subscription } from './subscription';
import type { Transport } from './transport';

export interface StompSessionOptions {
  /** Started: durable state restored. */
  broker: Broker;
  logger?: Logger;
  /** Over the broker's limits: the stomp* limits, maxTransactionOps and selectorMaxLength. */
  limits?: Partial<Limits>;
  /** The CONNECTED `server` header, `Warren/<version>`. */
  serverName?: string;
  /** Added to the negotiated interval before a silent peer is dropped. */
  heartbeatGraceMs?: number;
  /**
   * The user a CONNECT without login logs in as (RabbitMQ's stomp.default_user, guest/guest); null to require
   * login and passcode.
   */
  defaultLogin?: { login: string; passcode: string } | null;
  /** The vhost of a CONNECT whose host header names none (RabbitMQ's stomp.default_vhost); default "/". */
  defaultVhost?: string;
  /**
   * A host header that names no vhost (localhost, an IP, a DNS name, as many clients send): 'default-vhost'
   * (the default) connects to defaultVhost; 'refuse' takes the header as the vhost and refuses it, as
   * RabbitMQ does ("Virtual host 'x' access denied").
   */
  unknownHost?: 'default-vhost' | 'refuse';
  /**
   * Take a first frame other than CONNECT as if a CONNECT without headers came first: the default login,
   * STOMP 1.0, no heart-beats and no CONNECTED frame, as RabbitMQ's stomp.implicit_connect does.
   */
  implicitConnect?: boolean;
  /**
   * A CONNECT without login over TLS with a verified client certificate logs in as the certificate's CN,
   * before defaultLogin is considered (RabbitMQ's stomp.ssl_cert_login).
   */
  sslCertLogin?: boolean;
}

const AWAITING_CONNECT = 0;
const CONNECTED = 1;
const CLOSED = 2;

const NO_CHANNEL_EVENTS: ChannelEvents = { returned: () => {}, confirmed: () => {} };

/** STOMP 1.2 "Connecting": the first frame; STOMP is the 1.1+ synonym of CONNECT. */
const CONNECT_COMMANDS: readonly string[] = ['CONNECT', 'STOMP'];

/**
 * One STOMP connection: CONNECT negotiation, the frames of STOMP 1.0-1.2, heart-beats and errors, over any
 * Transport. Frame handlers run synchronously from the parser callback, so one chunk's frames are handled in
 * order and a fan-out to this session's subscriptions writes straight to the transport.
 */
export class StompSession implements StompParserHandler, MessageWriter, HeartbeatHost, ReceiptSink {
  readonly id = `session-${randomBytes(16).toString('base64url')}`;
  version: StompVersion = '1.0';
  readonly broker: Broker;
  readonly limits: Limits;
  logger: Logger;
  connection: Connection | undefined = undefined;
  private state = AWAITING_CONNECT;
  private readonly parser: StompParser;
  private readonly heartbeats: Heartbeats;
  private receipts: Receipts | undefined = undefined;
  private commands: MessagingCommands | undefined = undefined;
  /** MESSAGEs held until a SUBSCRIBE's RECEIPT is written (see subscribe). */
  private held: { receipt: string; frames: [string, Buffer, Buffer][] } | undefined = undefined;
  /** DISCONNECT's receipt: the transport ends once it is written. */
  private closingReceipt: string | undefined = undefined;
  /** The client ended the session with DISCONNECT (not a dropped socket, an error or a shutdown). */
  private disconnected = false;
  /** Why reading is paused: a resource alarm, frames parked past their cap. */
  private readonly pauses: ReadPauses;
  /** Frames waiting behind a topology claim (clustered brokers only). */
  private readonly parked: ParkedFrames;
  private unsubscribeAlarm: (() => void) | undefined = undefined;
  /** Until CONNECTED: a peer that never logs in is cut (RabbitMQ's handshake_timeout). */
  private handshakeTimer: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly transport: Transport,
    private readonly options: StompSessionOptions,
  ) {
    this.broker = options.broker;
    this.limits = { ...options.broker.limits, ...options.limits };
    this.logger = (options.logger ?? silentLogger).child({
      protocol: transport.protocol,
      // The field names of AMQP's connection lines, so one query finds a client whatever it speaks.
      client: `${transport.remoteAddress}:${transport.remotePort}`,
    });
    // A server's first frame is CONNECT or STOMP: anything else (a TLS hello, an HTTP request) is refused at
    // its first line, or its first octet that cannot start one of the two.
    // With implicit connect any command may come first, so the parser checks only that it is plausible.
    const connectCommands = options.implicitConnect === true ? undefined : CONNECT_COMMANDS;
    this.parser = new StompParser(this, { limits: this.limits, connectCommands });
    this.heartbeats = new Heartbeats(this);
    // Unread, the peer's heart-beats are not heard: the check stops, and what it sent counts once read again.
    this.pauses = new ReadPauses(transport, (paused) => {
      this.heartbeats.paused = paused;
      if (!paused) this.heartbeats.heard = true;
    });
    this.parked = new ParkedFrames(this.limits.maxParkedBytes, this.pauses);
    const timeout = this.limits.handshakeTimeoutMs;
    if (timeout > 0) {
      this.handshakeTimer = setTimeout(() => this.guard(() => this.handshakeTimedOut(timeout)), timeout);
      this.handshakeTimer.unref();
    }
  }

  private handshakeTimedOut(timeoutMs: number): void {
    this.handshakeTimer = undefined;
    if (this.state !== AWAITING_CONNECT) return;
    this.logger.warn({ timeoutMs }, 'STOMP client did not CONNECT in time; closing');
    this.teardown();
    this.transport.destroy();
  }

  get connected(): boolean {
    return this.state === CONNECTED;
  }

  get closed(): boolean {
    return this.state === CLOSED;
  }

  // ---- transport events -----------------------------------------------------------------------------

  receive(chunk: Buffer): void {
    // STOMP 1.1 "Heart-beating": any octet from the peer proves it alive, not only EOLs.
    this.heartbeats.heard = true;
    this.count('recv', chunk.length);
    // Frame handlers catch their own errors (onFrame); this catches what the parser itself might throw.
    this.guard(() => this.parser.feed(chunk));
  }

  drained(): void {
    this.guard(() => this.connection?.setWritable(true));
  }

  transportClosed(): void {
    if (this.connection !== undefined) {
      this.logger.info({}, this.disconnected ? 'connection closed by client' : 'connection closed');
    }
    try {
      this.teardown();
    } catch (err) {
      // The connection is gone already: whatever broke in its teardown is logged, and nobody else is touched.
      this.logger.error({ err, connection: this.connection?.id }, 'internal error while closing the session');
    }
  }

  /**
   * Runs `fn` for this session from a context of its own (transport data, a timer, a store callback, the
   * core's delivery): whatever it throws ends this session with an ERROR, never the caller.
   */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fault(err);
    }
  }

  /** A failure outside a frame handler: logged at error, then an ERROR frame and the connection closes. */
  fault(err: unknown): void {
    if (this.state === CLOSED) return;
    this.logger.error({ err, connection: this.connection?.id }, 'internal error; closing this STOMP session');
    try {
      this.fail(new StompFailure('Internal error', 'Internal error\n', true), undefined);
    } catch {
      // Even the ERROR could not be written: the transport goes without it.
      this.teardown();
      this.transport.destroy();
    }
  }

  /**
   * Broker shutdown or listener close. A logged-in client gets RabbitMQ's ERROR (`message:connection_forced`,
   * the AMQP reply text as body) before the socket closes, so it can tell a stop from a network failure.
   */
  shutdown(): void {
    if (this.state === CONNECTED) this.fail(toFailure(brokerShutdown()), undefined);
    else this.drop();
  }

  /** Ends the connection without a word: a client that stopped talking or never logged in. */
  private drop(): void {
    this.teardown();
    this.transport.destroy();
  }

  // ---- parser events --------------------------------------------------------------------------------

  onFrame(frame: StompFrame): void {
    if (this.parked.active) return this.parked.add(frame);
    try {
      this.handle(frame);
    } catch (error) {
      this.fail(toFailure(error), frame);
    }
  }

  // ---- parking behind topology claims ---------------------------------------------------------------

  /**
   * `frame` waits for `claim` (a declare or bind it implies): the session parks, and its later frames wait in
   * order. Resolved: `then` finishes the frame (its receipt included), and the parked frames are handled.
   * Rejected: the usual ERROR for that frame; a fatal one ends the session and the parked frames with it.
   */
  private parkOn<T>(claim: Promise<T>, frame: StompFrame, then: (result: T) => void): void {
    this.parked.begin();
    claim.then(
      (result) =>
        this.guard(() => {
          if (this.state === CLOSED) return;
          try {
            then(result);
          } catch (error) {
            this.fail(toFailure(error), frame);
          }
          this.unpark();
        }),
      (error: unknown) =>
        this.guard(() => {
          if (this.state === CLOSED) return;
          this.fail(toFailure(error), frame);
          this.unpark();
        }),
    );
  }

  private unpark(): void {
    for (const frame of this.parked.take()) {
      if (this.state === CLOSED) return;
      // A frame handled here may park the session again: the rest wait behind it, still in order.
      this.onFrame(frame);
    }
    if (this.state !== CLOSED) this.parked.settle();
  }

  onHeartbeat(): void {
    // Liveness is recorded per chunk in receive(); nothing else to do.
  }

  onError(error: StompProtocolError): void {
    this.fail(toFailure(error), undefined);
  }

  // ---- frames ---------------------------------------------------------------------------------------

  private handle(frame: StompFrame): void {
    if (this.state === CLOSED) return;
    const command = frame.command;
    if (this.state === AWAITING_CONNECT) {
      if (command === 'CONNECT' || command === 'STOMP') return this.connect(frame, false);
      if (this.options.implicitConnect !== true) {
        throw new StompFailure('Illegal command', 'You must log in using CONNECT first', true);
      }
      this.connect({ command: 'CONNECT', headers: new Map(), body: Buffer.alloc(0) }, true);
    }
    const commands = this.commands as MessagingCommands;
    let durable = false;
    switch (command) {
      case 'SEND': {
        const sent = commands.send(frame);
        if (sent instanceof Promise) return this.parkOn(sent, frame, (s) => this.sent(frame, s));
        return this.sent(frame, sent);
      }
      case 'SUBSCRIBE': {
        const prepared = commands.prepareSubscribe(frame);
        const pending = commands.runTopology(prepared);
        if (pending === undefined) this.subscribe(prepared, frame);
        else
          return this.parkOn(pending, frame, () => {
            this.subscribe(prepared, frame);
            this.done(frame, false);
          });
        break;
      }
      case 'UNSUBSCRIBE': {
        const pending = commands.unsubscribe(frame);
        if (pending !== undefined) return this.parkOn(pending, frame, () => this.done(frame, false));
        break;
      }
      case 'ACK':
        commands.settle(frame, false);
        break;
      case 'NACK':
        commands.settle(frame, true);
        break;
      case 'BEGIN':
        commands.transactions.begin(commands.transactionId(frame));
        break;
      case 'COMMIT': {
        const done = commands.transactions.commit(commands.transactionId(frame));
        durable = done.durable;
        for (const r of done.receipts) (this.receipts as Receipts).receipt(r, durable);
        break;
      }
      case 'ABORT':
        commands.transactions.abort(commands.transactionId(frame));
        break;
      case 'DISCONNECT':
        return this.disconnect(frame);
      case 'CONNECT':
      case 'STOMP':
        throw new StompFailure('Unexpected frame', 'Already connected', false);
      default:
        throw new StompFailure('Bad command', `Could not interpret command "${command}"\n`);
    }
    this.done(frame, durable);
  }

  /** A SEND's end: its receipt (after the disk, if `stored`), unless a transaction owns it (after COMMIT). */
  private sent(frame: StompFrame, outcome: SendOutcome): void {
    if (outcome === 'in-transaction') return this.blockIfAlarm(frame.command);
    this.done(frame, outcome === 'stored');
  }

  /** A frame handled: its receipt (STOMP 1.2 "Header receipt": any client frame but CONNECT may ask for one). */
  private done(frame: StompFrame, durable: boolean): void {
    const receipt = frame.headers.get('receipt');
    if (receipt !== undefined) (this.receipts as Receipts).receipt(receipt, durable);
    this.blockIfAlarm(frame.command);
  }

  /**
   * A SUBSCRIBE with a receipt: MESSAGEs it makes the queue send at once (a durable subscription's backlog)
   * wait until its RECEIPT is written, so the client learns the subscription exists before it hears from it,
   * as RabbitMQ orders them.
   */
  private subscribe(prepared: PreparedSubscription, frame: StompFrame): void {
    const receipt = frame.headers.get('receipt');
    if (receipt === undefined) return prepared.finish();
    this.held ??= { receipt, frames: [] };
    try {
      prepared.finish();
    } catch (error) {
      this.releaseHeld();
      throw error;
    }
  }

  private releaseHeld(): void {
    const held = this.held;
    this.held = undefined;
    if (held === undefined || held.frames.length === 0) return;
    let ok = true;
    for (const [head, block, body] of held.frames) ok = this.writeMessage(head, block, body) && ok;
    // Holding stopped deliveries (see writeMessage); they resume unless the socket itself is now full.
    if (ok) this.connection?.setWritable(true);
  }

  private blockIfAlarm(command: string): void {
    if ((command === 'SEND' || command === 'COMMIT') && this.broker.alarms.blocked) this.block();
  }

  /**
   * A publish under a memory or disk alarm: stop reading this connection until the alarm clears, as
   * RabbitMQ's STOMP adapter does. STOMP has no connection.blocked; the client sees its socket stall.
   * Deliveries to its subscriptions carry on.
   */
  private block(): void {
    if (this.pauses.has('alarm')) return;
    this.pauses.pause('alarm');
    this.logger.info({ reason: this.broker.alarms.reason }, 'STOMP publisher blocked by a resource alarm');
  }

  private unblock(): void {
    if (this.state !== CLOSED) this.pauses.resume('alarm');
  }

  /** `implicit`: no CONNECT was sent, so none is answered with CONNECTED. */
  private connect(frame: StompFrame, implicit: boolean): void {
    const { version, beat, user, vhost, connection } = acceptConnect(frame, {
      broker: this.broker,
      transport: this.transport,
      logger: this.logger,
      defaultLogin: this.options.defaultLogin,
      sslCertLogin: this.options.sslCertLogin === true,
      defaultVhost: this.options.defaultVhost,
      unknownHost: this.options.unknownHost,
    });
    const channel: Channel = connection.openChannel(1, NO_CHANNEL_EVENTS);
    // Deliveries and store callbacks the core runs for this session fail into it, never into their caller.
    connection.onFault = (err) => this.fault(err);
    // An operator's close: the shutdown's ERROR (message:connection_forced), with the operator's reason.
    connection.onForcedClose = (err) => this.fail(toFailure(err), undefined);
    this.connection = connection;
    this.logger = this.logger.child({ connection: connection.id });
    this.version = version;
    this.state = CONNECTED;
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.parser.markConnected(version);
    this.receipts = new Receipts(this.broker.persistence, this);
    this.commands = new MessagingCommands(this, channel);
    this.unsubscribeAlarm = this.broker.alarms.onChange((blocked) => {
      if (!blocked) this.guard(() => this.unblock());
    });
    // The server can send every cy and wants the client's every cx: `heart-beat:cy,cx` (RabbitMQ's answer),
    // each no shorter than stompMinHeartbeatMs (STOMP 1.2 "Heart-beating": the larger of what each side says).
    const floor = this.limits.stompMinHeartbeatMs;
    const sendEvery = beat.clientWants === 0 ? 0 : Math.max(beat.clientWants, floor);
    const expectEvery = beat.clientSends === 0 ? 0 : Math.max(beat.clientSends, floor);
    if (!implicit) this.writeConnected(version, sendEvery, expectEvery);
    this.heartbeats.start(sendEvery, expectEvery, this.options.heartbeatGraceMs ?? graceFor(expectEvery));
    this.logger.info({ user: user.name, vhost, version, implicit }, 'connection opened');
  }

  private writeConnected(version: StompVersion, sendEvery: number, expectEvery: number): void {
    this.writeFrame(
      serializeFrame(
        'CONNECTED',
        [
          ['server', this.options.serverName ?? 'Warren'],
          ['session', this.id],
          ['heart-beat', `${sendEvery},${expectEvery}`],
          ['version', version],
        ],
        Buffer.alloc(0),
        version,
      ),
    );
  }

  private disconnect(frame: StompFrame): void {
    const receipt = frame.headers.get('receipt');
    this.disconnected = true;
    this.teardown();
    if (receipt === undefined) {
      this.transport.end();
      return;
    }
    this.closingReceipt = receipt;
    (this.receipts as Receipts).receipt(receipt, false);
  }

  // ---- output ---------------------------------------------------------------------------------------

  /** Writes one frame's chunks corked; stops deliveries to this connection when the transport is full. */
  writeFrame(chunks: Buffer[]): void {
    const t = this.transport;
    t.cork();
    let ok = true;
    let octets = 0;
    for (const chunk of chunks) {
      octets += chunk.length;
      ok = t.write(chunk) && ok;
    }
    t.uncork();
    this.count('send', octets);
    this.heartbeats.wrote = true;
    if (!ok) this.connection?.setWritable(false);
  }

  writeMessage(head: string, block: Buffer, body: Buffer): boolean {
    if (this.held !== undefined) {
      // Held until the SUBSCRIBE's RECEIPT (which may wait for the store): deliveries stop meanwhile, as for a
      // full socket, so a deep backlog cannot pile up here.
      this.held.frames.push([head, block, body]);
      this.connection?.setWritable(false);
      return false;
    }
    const t = this.transport;
    t.cork();
    let ok = t.write(Buffer.from(head, 'utf8'));
    ok = t.write(block) && ok;
    if (body.length > 0) ok = t.write(body) && ok;
    ok = t.write(FRAME_END) && ok;
    t.uncork();
    this.count('send', Buffer.byteLength(head) + block.length + body.length + FRAME_END.length);
    this.heartbeats.wrote = true;
    if (!ok) this.connection?.setWritable(false);
    return ok;
  }

  /** The connection's traffic figures for the management API (RabbitMQ's recv_oct/cnt, send_oct/cnt). */
  private count(direction: 'recv' | 'send', octets: number): void {
    const stats = this.connection?.stats;
    if (stats === undefined) return;
    if (direction === 'recv') {
      stats.recvOct += octets;
      stats.recvCnt++;
    } else {
      stats.sendOct += octets;
      stats.sendCnt++;
    }
  }

  sendReceipt(receiptId: string): void {
    if (this.closingReceipt === undefined && this.state === CLOSED) return;
    // Called from a store batch's callback, beside other clients' receipts and confirms.
    this.guard(() => {
      this.writeFrame(serializeFrame('RECEIPT', [['receipt-id', receiptId]], Buffer.alloc(0), this.version));
      if (receiptId === this.held?.receipt) this.releaseHeld();
      if (receiptId === this.closingReceipt) this.transport.end();
    });
  }

  sendHeartbeat(): void {
    if (this.state !== CONNECTED) return;
    this.guard(() => this.transport.write(HEARTBEAT));
  }

  peerTimedOut(silentMs: number): void {
    this.logger.info({ silentMs }, 'STOMP peer missed its heart-beats; closing');
    this.guard(() => this.drop());
  }

  subscriptionCancelled(sub: Subscription): void {
    this.commands?.forget(sub);
    this.fail(
      new StompFailure(
        'Subscription cancelled',
        `The queue behind subscription '${sub.spec.id}' (${sub.spec.destination}) was deleted\n`,
      ),
      undefined,
    );
  }

  // ---- failure and teardown -------------------------------------------------------------------------

  /** Reports a failure as an ERROR frame (STOMP 1.2 "ERROR"); a fatal one then closes the connection. */
  private fail(failure: StompFailure, frame: StompFrame | undefined): void {
    if (this.state === CLOSED) return;
    this.logger.debug(
      { error: failure.message, detail: failure.detail, fatal: failure.fatal },
      'STOMP ERROR',
    );
    const headers: [string, string][] = [['message', failure.message]];
    // STOMP 1.2 "ERROR": an error caused by a frame with a receipt header names that receipt.
    const receipt = frame?.headers.get('receipt');
    if (receipt !== undefined) headers.push(['receipt-id', receipt]);
    headers.push(['content-type', 'text/plain'], ['version', SUPPORTED]);
    this.writeFrame(serializeFrame('ERROR', headers, Buffer.from(failure.detail, 'utf8'), this.version));
    if (failure.fatal) {
      this.teardown();
      this.transport.end();
    }
  }

  private teardown(): void {
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    this.held = undefined;
    // Frames parked behind a claim go with the session.
    this.parked.drop();
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.heartbeats.stop();
    this.unsubscribeAlarm?.();
    this.parser.destroy();
    // STOMP 1.2 "BEGIN": open transactions are aborted when the connection goes; unacked deliveries are
    // requeued by the channel's close, so another subscriber gets them.
    this.commands?.transactions.abortAll();
    this.commands?.clear();
    this.connection?.close();
  }
}

/** The default grace: half the interval, at least a second (network jitter, a client busy in a GC pause). */
function graceFor(interval: number): number {
  return Math.max(1000, interval >> 1);
}
