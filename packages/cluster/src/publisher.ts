/*
 * Publishes to JetStream and waits for each PubAck on one shared reply subscription, with one timer for all
 * deadlines. The JetStream client's js.publish costs about 100 us of CPU per message here (a request object,
 * a timer and header parsing each); this costs about 25 (bench/queue-stream.mjs, docs/cluster.md).
 *
 *   PUB <subject> <inbox>.<n>   headers: Nats-Msg-Id: <msgId>     payload
 *   answer on <inbox>.<n>:      {"stream": "...", "seq": 12, "duplicate"?: true}       stored (or a duplicate)
 *                               {"error": {"code": 503, "err_code": 10xxx, "description": "..."}}
 *                               status 503 without payload                              no responders
 */
import {
  createInbox,
  headers,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';

export interface PubAck {
  seq: number;
  duplicate: boolean;
}

/** JetStream refused the message (an API error) or nobody answered (status 503, no responders). */
export class PublishError extends Error {
  override readonly name = 'PublishError';
  constructor(
    message: string,
    /** 503: no responders, no leader, no quorum (worth another try); else the server's answer. */
    readonly status: number,
    /** JetStream's err_code (e.g. 10059 stream not found), 0 if none. */
    readonly errCode: number,
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.status === 503;
  }
}

/** Nobody answered in time: the message may or may not be stored (retry with the same msgId). */
export class PublishTimeout extends Error {
  override readonly name = 'PublishTimeout';
  readonly retryable = true;
}

interface Waiting {
  readonly resolve: (a: PubAck) => void;
  readonly reject: (e: Error) => void;
  readonly deadline: number;
}

const decoder = new TextDecoder();

export class Publisher {
  private readonly inbox = createInbox();
  private sub: Subscription | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private next = 0;
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly nc: NatsConnection) {}

  publish(subject: string, payload: Uint8Array, msgId: string, timeoutMs: number): Promise<PubAck> {
    return new Promise((resolve, reject) => {
      this.start();
      const id = ++this.next;
      const h = headers();
      h.set('Nats-Msg-Id', msgId);
      this.waiting.set(id, { resolve, reject, deadline: Date.now() + timeoutMs });
      try {
        this.nc.publish(subject, payload, { reply: `${this.inbox}.${id}`, headers: h });
      } catch (err) {
        this.waiting.delete(id);
        reject(err as Error);
      }
    });
  }

  /** Fails whatever is waiting and drops the subscription. */
  close(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const w of this.waiting.values()) w.reject(new PublishTimeout('publisher closed'));
    this.waiting.clear();
    try {
      this.sub?.unsubscribe();
    } catch {
      // Closed connection: nothing to remove.
    }
    this.sub = undefined;
  }

  private start(): void {
    if (this.sub !== undefined) return;
    this.sub = this.nc.subscribe(`${this.inbox}.*`, {
      callback: (err, msg) => {
        if (err === null) this.answer(msg);
      },
    });
    this.sweeper = setInterval(() => this.sweep(), 100);
    this.sweeper.unref();
  }

  private answer(msg: Msg): void {
    const id = Number(msg.subject.slice(this.inbox.length + 1));
    const w = this.waiting.get(id);
    if (w === undefined) return; // timed out already: its retry carries the same msgId
    this.waiting.delete(id);
    if (msg.data.length === 0) {
      const code = msg.headers?.code ?? 0;
      w.reject(
        new PublishError(`no answer from JetStream (${code} ${msg.headers?.description ?? ''})`, code, 0),
      );
      return;
    }
    let a: {
      seq?: unknown;
      duplicate?: unknown;
      error?: { code?: number; err_code?: number; description?: string };
    };
    try {
      a = JSON.parse(decoder.decode(msg.data)) as typeof a;
    } catch {
      w.reject(new PublishError('PubAck is not JSON', 500, 0));
      return;
    }
    if (a.error !== undefined) {
      const e = a.error;
      w.reject(new PublishError(e.description ?? 'JetStream error', e.code ?? 500, e.err_code ?? 0));
    } else if (typeof a.seq !== 'number') {
      w.reject(new PublishError('PubAck without seq', 500, 0));
    } else {
      w.resolve({ seq: a.seq, duplicate: a.duplicate === true });
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, w] of this.waiting) {
      if (w.deadline <= now) {
        this.waiting.delete(id);
        w.reject(new PublishTimeout('no PubAck in time'));
      }
    }
  }
}
