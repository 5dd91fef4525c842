/*
 * Pull requests to one durable consumer, written on core NATS so that each request's count is exact
 * (the JetStream client's consume() refills on its own thresholds; a broker's prefetch cannot be approximate).
 *
 *   request: PUB $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer> <inbox>.<id>
 *            {"batch": n, "expires": <ns>, "idle_heartbeat": <ns>}   or   {"batch": n, "no_wait": true}
 *   answers on <inbox>.<id>, in order:
 *            up to n messages (reply subject $JS.ACK...)
 *            status 100 Idle Heartbeat            (the request is still waiting on the consumer leader)
 *            status 404 No Messages               (no_wait, nothing there)
 *            status 408 Request Timeout           (expired; Nats-Pending-Messages says how many were left)
 *            status 409 Leadership Change / Consumer Deleted / Exceeded MaxWaiting ...   (ended by the server)
 *   A request ends with its n-th message or its first status other than 100. One that hears nothing for
 *   three heartbeats (its server died, the consumer's leader moved), or is still open 2 s past its expiry,
 *   is given up: what it had asked for is asked again by a new request. Its subscription stays until the
 *   request must have expired on the server, and a message that still arrives there is NAKed at once, so it
 *   goes to whoever has credit instead of waiting out ack_wait. Stopping a session does the same.
 */
import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { Delivery, parseAckSubject } from './delivery';

export interface PullRequestOptions {
  /** Return at once with what is there (basic.get). */
  noWait?: boolean;
  /** How long the server keeps the request waiting for messages, ms. */
  expiresMs?: number;
}

/** Why a request ended: 'done' (got all), 'expired' (408, 404), 'lost' (no heartbeat), or a server status. */
export type PullEnd =
  | { reason: 'done' | 'expired' | 'lost' | 'stopped' }
  | { reason: 'status'; code: number; description: string };

interface Request {
  readonly id: number;
  readonly asked: number;
  received: number;
  lastHeard: number;
  readonly heartbeatMs: number;
  readonly onMessage: (d: Delivery) => void;
  readonly onEnd: (end: PullEnd, unfilled: number) => void;
  readonly onSettle: (() => void) | undefined;
  /** How long the server may still hold the request (expires plus a margin), ms. */
  readonly graceMs: number;
  /** When the server must have ended the request (its expiry plus a margin), ms since the epoch. */
  readonly endBy: number;
  sub: Subscription | undefined;
}

const DEFAULT_EXPIRES_MS = 5_000;
const NAK = new TextEncoder().encode('-NAK');

export class PullSession {
  private readonly inbox: string;
  private readonly requests = new Map<number, Request>();
  private nextId = 1;
  private readonly watchdog: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly nextSubject: string,
    private readonly onError: (err: unknown) => void,
  ) {
    this.inbox = createInbox();
    this.watchdog = setInterval(() => {
      try {
        this.check();
      } catch (e) {
        this.onError(e);
      }
    }, 250);
    this.watchdog.unref();
  }

  get outstanding(): number {
    return this.requests.size;
  }

  /** Asks for up to `batch` messages. Callbacks run from the subscription or the watchdog, never throw out. */
  request(
    batch: number,
    opts: PullRequestOptions,
    onMessage: (d: Delivery) => void,
    onEnd: (end: PullEnd, unfilled: number) => void,
    onSettle?: () => void,
  ): void {
    if (this.closed) {
      onEnd({ reason: 'stopped' }, batch);
      return;
    }
    if (!Number.isInteger(batch) || batch < 1)
      throw new RangeError(`a pull request asks for 1 or more, not ${batch}`);
    const id = this.nextId++;
    const expiresMs = opts.expiresMs ?? DEFAULT_EXPIRES_MS;
    // Heartbeats every second (twice per request if it is shorter): a dead request is noticed in 3 of them.
    const heartbeatMs = opts.noWait === true ? 0 : Math.max(100, Math.min(1000, Math.floor(expiresMs / 2)));
    const body =
      opts.noWait === true
        ? { batch, no_wait: true }
        : { batch, expires: expiresMs * 1_000_000, idle_heartbeat: heartbeatMs * 1_000_000 };
    const subject = `${this.inbox}.${id}`;
    const req: Request = {
      id,
      asked: batch,
      received: 0,
      lastHeard: Date.now(),
      // no_wait answers at once; give it a fixed grace rather than heartbeats.
      heartbeatMs: heartbeatMs > 0 ? heartbeatMs : 2000,
      graceMs: expiresMs + 2000,
      endBy: Date.now() + expiresMs + 2000,
      onMessage,
      onEnd,
      onSettle,
      sub: undefined,
    };
    this.requests.set(id, req);
    try {
      // One subscription per request: JetStream sends each message with the subject it was published on,
      // so only the subscription (its sid) tells which request a message answers.
      req.sub = this.nc.subscribe(subject, {
        callback: (err, msg) => {
          try {
            if (err !== null) this.onError(err);
            else this.receive(req, msg);
          } catch (e) {
            this.onError(e);
          }
        },
      });
      this.nc.publish(this.nextSubject, JSON.stringify(body), { reply: subject });
    } catch (err) {
      this.end(req, { reason: 'lost' });
      this.onError(err);
    }
  }

  /** Ends every request (their callbacks run with 'stopped'). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    for (const req of [...this.requests.values()]) this.end(req, { reason: 'stopped' });
  }

  private receive(req: Request, msg: Msg): void {
    const meta = msg.reply !== undefined ? parseAckSubject(msg.reply) : undefined;
    if (meta !== undefined && msg.reply !== undefined) {
      if (this.requests.get(req.id) !== req) {
        // The request was given up (or the session closed): hand the message back right away.
        this.nakLate(msg.reply);
        return;
      }
      req.received++;
      req.lastHeard = Date.now();
      const body = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
      req.onMessage(new Delivery(this.nc, msg.reply, meta, body, req.onSettle));
      // onMessage may have closed the session, which already ended this request.
      if (req.received >= req.asked && this.requests.get(req.id) === req) this.end(req, { reason: 'done' });
      return;
    }
    if (this.requests.get(req.id) !== req) return;
    const code = msg.headers?.code ?? 0;
    if (code === 100) {
      req.lastHeard = Date.now();
      return;
    }
    // 404 No Messages and 408 Request Timeout end a request normally; so does 408 Requests Pending, a
    // no_wait request while other requests wait, which they only do on an empty queue.
    if (code === 404 || code === 408) this.end(req, { reason: 'expired' });
    else this.end(req, { reason: 'status', code, description: msg.headers?.description ?? '' });
  }

  private nakLate(reply: string): void {
    try {
      this.nc.publish(reply, NAK);
    } catch {
      // Closed: the server redelivers after ack_wait.
    }
  }

  private check(): void {
    const now = Date.now();
    for (const req of [...this.requests.values()]) {
      // Silent for three heartbeats, or alive past its expiry (a server that keeps a request it will never
      // serve, e.g. after giving up leadership): either way ask again elsewhere.
      if (now - req.lastHeard > 3 * req.heartbeatMs || now > req.endBy) this.end(req, { reason: 'lost' });
    }
  }

  private end(req: Request, end: PullEnd): void {
    if (!this.requests.delete(req.id)) return;
    const sub = req.sub;
    if (sub !== undefined) {
      if (end.reason === 'done' || end.reason === 'expired' || end.reason === 'status') {
        // The server has finished with the request: nothing more comes on its subject.
        unsubscribe(sub);
      } else {
        // It may still be waiting on the server: keep listening until it must have expired, NAKing what comes.
        const t = setTimeout(() => unsubscribe(sub), req.graceMs);
        t.unref();
      }
    }
    req.onEnd(end, req.asked - req.received);
  }
}

function unsubscribe(sub: Subscription): void {
  try {
    sub.unsubscribe();
  } catch {
    // A closed connection has no subscription left to remove.
  }
}
