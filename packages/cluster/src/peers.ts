import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { AlarmResource, ResourceAlarms } from '@warren/core';
import type { ReplicaState } from './replicated-queue';

/**
 * What the nodes of a cluster tell each other over core NATS (nothing here needs keeping, so no JetStream):
 *
 *   warren.node.heartbeat     {"node": name, "alarms": [...]}, every heartbeat and whenever an alarm changes;
 *                             a joining node's first beat is a request, which every other node answers with
 *                             a beat of its own, so it knows its peers before it takes its first claim
 *   warren.topology.barrier   request [revision, asker]; every other node answers its name once its watcher
 *                             has applied the topology bucket through revision
 *   warren.queue.state        request [vhost, queue, asker]; every other node answers
 *                             {node, consumers, unacked}
 *   warren.queue.trim         [vhost, queue], no answer: a publish landed in a queue with a drop-head limit;
 *                             the one node chosen for the queue (below) trims it
 *   warren.node.ask           request [question, args, asker]; every other node answers
 *                             {node, answer} (or {node, error}): what the management API gathers from the
 *                             whole cluster, its connections, channels and consumers, which only their node has
 *
 * One node trims each bounded queue, so two trims never race for its head: the live node (this one among
 * them) whose name hashed with the queue's scores highest (rendezvous hashing). Every node picks from its
 * own view of who is live, so the choice moves when a node joins or goes silent, and only then.
 *
 * Every node subscribes to the request subjects, the asker too: a request names its asker, who does not answer
 * it, and an asker counts each live peer's answer once, by name. (An asker that counted its own answer would
 * let a barrier pass before a slower peer applied the change.)
 */
export const HEARTBEAT_SUBJECT = 'warren.node.heartbeat';
export const BARRIER_SUBJECT = 'warren.topology.barrier';
export const QUEUE_STATE_SUBJECT = 'warren.queue.state';
export const TRIM_SUBJECT = 'warren.queue.trim';
export const ASK_SUBJECT = 'warren.node.ask';

export const DEFAULT_HEARTBEAT_MS = 2000;
/** A node unheard of for this many heartbeats is not waited for by barriers. */
export const MISSED_HEARTBEATS = 3;
/** How long a count of other nodes' consumers waits for their answers. */
const COUNT_WAIT_MS = 500;
/** How long a question to the other nodes waits for their answers (the management API's lists). */
const ASK_WAIT_MS = 1000;
/** nats-server's max_payload unless configured otherwise. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** How long a joining node waits for the first answer to its first beat (the first node of a cluster has none). */
const JOIN_WAIT_MS = 500;
/** ... and for more after the last one came. */
const JOIN_STALL_MS = 100;

export interface PeersOptions {
  nc: NatsConnection;
  /** This node's name; unique among the nodes. */
  name: string;
  heartbeatMs: number;
  /** This broker's alarms: told to the others, and set from theirs. */
  alarms: ResourceAlarms;
  /** Resolves once this node's watcher has applied the topology bucket through `revision`. */
  appliedThrough(revision: number): Promise<void>;
  /** This node's consumers and unacked deliveries of one replicated queue. */
  localState(vhost: string, queue: string): ReplicaState;
  /** Trims a queue over its drop-head limit: this node is the one chosen to. */
  trim(vhost: string, queue: string): void;
  /** A node went silent: queues it was chosen to trim may now be this node's. */
  peerLeft(node: string): void;
  /** What trim or peerLeft threw: they run in NATS callbacks and timers, where nothing may escape. */
  failed(err: unknown, what: string): void;
}

/** One other node's answer to a question asked with `Peers.ask`. */
export interface PeerAnswer {
  readonly node: string;
  readonly answer: unknown;
}

/** Answers one question for the other nodes: JSON in, JSON out (a promise of it may do). */
export type PeerAnswerer = (args: unknown) => unknown;

/** This node's view of the others: who is alive, what they answer, and this node's answers to them. */
export class Peers {
  /** When each other node was last heard from, by name. */
  private readonly heard = new Map<string, number>();
  /** What this node answers on ASK_SUBJECT, by question. */
  private readonly answerers = new Map<string, PeerAnswerer>();
  private readonly subscriptions: Subscription[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private stopAlarmBeats: (() => void) | undefined;

  constructor(private readonly o: PeersOptions) {}

  /** Names of the other nodes heard from within the last MISSED_HEARTBEATS heartbeats. */
  get live(): string[] {
    const cutoff = Date.now() - this.o.heartbeatMs * MISSED_HEARTBEATS;
    return [...this.heard].filter(([, at]) => at >= cutoff).map(([name]) => name);
  }

  /** Every node this one has heard of, itself first, and whether each is running (heard from lately). */
  get known(): { name: string; running: boolean }[] {
    const live = new Set(this.live);
    const others = [...this.heard.keys()].sort().map((name) => ({ name, running: live.has(name) }));
    return [{ name: this.o.name, running: true }, ...others];
  }

  /** Subscribes, then beats, and resolves once the nodes already there have answered the first beat. */
  async start(): Promise<void> {
    const { nc, name: me, alarms } = this.o;
    const beatOf = (): string => JSON.stringify({ node: me, alarms: alarms.localResources });
    this.subscriptions.push(
      nc.subscribe(HEARTBEAT_SUBJECT, {
        callback: (err, msg) => {
          if (err !== null) return;
          const beat = parseHeartbeat(msg.string());
          if (beat === undefined || beat.node === me) return;
          this.hear(beat);
          if (msg.reply !== undefined) this.answer(msg, beatOf());
        },
      }),
      nc.subscribe(BARRIER_SUBJECT, {
        callback: (err, msg) => {
          if (err !== null || msg.reply === undefined) return;
          const ask = parseRequest(msg.string(), 2);
          if (ask === undefined || ask[1] === me) return;
          const revision = Number(ask[0]);
          if (!Number.isSafeInteger(revision)) return;
          void this.o.appliedThrough(revision).then(() => this.answer(msg, me));
        },
      }),
      nc.subscribe(QUEUE_STATE_SUBJECT, {
        callback: (err, msg) => {
          if (err !== null || msg.reply === undefined) return;
          const ask = parseRequest(msg.string(), 3);
          if (ask === undefined || ask[2] === me) return;
          const [vhost, queue] = ask as [string, string];
          this.answer(msg, JSON.stringify({ node: me, ...this.o.localState(vhost, queue) }));
        },
      }),
      nc.subscribe(ASK_SUBJECT, {
        callback: (err, msg) => {
          if (err !== null || msg.reply === undefined) return;
          const ask = parseRequest(msg.string(), 3);
          if (ask === undefined || ask[2] === me || typeof ask[0] !== 'string') return;
          this.respondTo(msg, ask[0], ask[1]);
        },
      }),
      nc.subscribe(TRIM_SUBJECT, {
        callback: (err, msg) => {
          if (err !== null) return;
          const ask = parseStrings(msg.string(), 2);
          if (ask === undefined) return;
          const [vhost, queue] = ask as [string, string];
          if (this.chosenFor(vhost, queue) === me) this.safely('trim', () => this.o.trim(vhost, queue));
        },
      }),
    );
    const tell = (): void => {
      try {
        nc.publish(HEARTBEAT_SUBJECT, beatOf());
      } catch {
        // Closed or reconnecting: the next beat tries again.
      }
    };
    let wasLive = new Set<string>();
    const beat = (): void => {
      tell();
      // A node gone silent no longer blocks anyone, and what it was chosen to do passes to others.
      const live = new Set(this.live);
      for (const node of alarms.remoteNodes) if (!live.has(node)) alarms.setRemote(node);
      for (const node of wasLive) if (!live.has(node)) this.safely('peer left', () => this.o.peerLeft(node));
      wasLive = live;
    };
    this.heartbeat = setInterval(beat, this.o.heartbeatMs);
    this.heartbeat.unref();
    // An alarm raised or cleared here is told at once, not at the next beat.
    this.stopAlarmBeats = alarms.onChange(tell);
    // The first beat asks: a claim made right after the join then waits for every node already there.
    const answers = await nc.requestMany(HEARTBEAT_SUBJECT, beatOf(), {
      strategy: 'stall',
      stall: JOIN_STALL_MS,
      maxWait: JOIN_WAIT_MS,
    });
    try {
      for await (const answer of answers) {
        const beat = parseHeartbeat(answer.string());
        if (beat !== undefined && beat.node !== me) this.hear(beat);
      }
    } catch {
      // The connection dropped meanwhile: the others' periodic beats teach this node of them instead.
    }
  }

  private hear(beat: { node: string; alarms: AlarmResource[] }): void {
    this.heard.set(beat.node, Date.now());
    // RabbitMQ's alarms are cluster-wide: another node low on memory or disk blocks publishers here too.
    this.o.alarms.setRemote(beat.node, beat.alarms);
  }

  /** Waits until every live peer has applied through `revision`, or did not answer within its heartbeats. */
  async barrier(revision: number): Promise<void> {
    const waiting = new Set(this.live);
    if (waiting.size === 0) return;
    const answers = await this.o.nc.requestMany(BARRIER_SUBJECT, JSON.stringify([revision, this.o.name]), {
      maxWait: this.o.heartbeatMs * MISSED_HEARTBEATS,
    });
    for await (const answer of answers) {
      waiting.delete(answer.string());
      if (waiting.size === 0) break;
    }
  }

  /** What the other live nodes have of a queue: its consumers there, and the deliveries they hold unacked. */
  async remoteState(vhost: string, queue: string): Promise<ReplicaState> {
    const total: ReplicaState = { consumers: 0, unacked: 0 };
    const waiting = new Set(this.live);
    if (waiting.size === 0) return total;
    const ask = JSON.stringify([vhost, queue, this.o.name]);
    const replies = await this.o.nc.requestMany(QUEUE_STATE_SUBJECT, ask, { maxWait: COUNT_WAIT_MS });
    for await (const r of replies) {
      try {
        const s = JSON.parse(r.string()) as Partial<ReplicaState> & { node?: unknown };
        if (typeof s.node !== 'string' || !waiting.delete(s.node)) continue;
        total.consumers += Number(s.consumers) || 0;
        total.unacked += Number(s.unacked) || 0;
      } catch {
        // Not ours to read: counted as nothing.
      }
      if (waiting.size === 0) break;
    }
    return total;
  }

  /**
   * Asks every other live node `question`: the answers that came within ASK_WAIT_MS, one per node. A node
   * that does not answer in time, or cannot (an error, or an answer over NATS's max_payload), is left out.
   */
  async ask(question: string, args: unknown): Promise<PeerAnswer[]> {
    const got: PeerAnswer[] = [];
    const waiting = new Set(this.live);
    if (waiting.size === 0) return got;
    try {
      const ask = JSON.stringify([question, args, this.o.name]);
      const replies = await this.o.nc.requestMany(ASK_SUBJECT, ask, { maxWait: ASK_WAIT_MS });
      for await (const r of replies) {
        const a = parseAnswer(r.string());
        if (a === undefined || !waiting.delete(a.node)) continue;
        if ('answer' in a) got.push({ node: a.node, answer: a.answer });
        if (waiting.size === 0) break;
      }
    } catch {
      // The connection dropped meanwhile: what came is what there is.
    }
    return got;
  }

  /** Answers `question` for the other nodes from now on; returns how to stop. */
  answerWith(question: string, answerer: PeerAnswerer): () => void {
    this.answerers.set(question, answerer);
    return () => {
      if (this.answerers.get(question) === answerer) this.answerers.delete(question);
    };
  }

  private respondTo(msg: { respond(data: string): boolean }, question: string, args: unknown): void {
    const me = this.o.name;
    const answerer = this.answerers.get(question);
    if (answerer === undefined) return this.answer(msg, JSON.stringify({ node: me, error: 'no answerer' }));
    void Promise.resolve()
      .then(() => answerer(args))
      .then((answer) => {
        const text = JSON.stringify({ node: me, answer: answer ?? null });
        const limit = this.o.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
        if (Buffer.byteLength(text) > limit) throw new Error(`answer over max_payload (${limit} bytes)`);
        this.answer(msg, text);
      })
      .catch((err: unknown) => {
        this.o.failed(err, `answering ${question}`);
        this.answer(msg, JSON.stringify({ node: me, error: String(err) }));
      });
  }

  /** Tells the node chosen to trim a queue that a publish has landed in it (this node too, if it is the one). */
  askTrim(vhost: string, queue: string): void {
    try {
      this.o.nc.publish(TRIM_SUBJECT, JSON.stringify([vhost, queue]));
    } catch {
      // Closed or reconnecting: the next publish asks again.
    }
  }

  /** The node, of the live ones and this one, that trims a queue. */
  chosenFor(vhost: string, queue: string): string {
    return chosenNode([this.o.name, ...this.live], vhost, queue);
  }

  stop(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.stopAlarmBeats?.();
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    for (const node of this.o.alarms.remoteNodes) this.o.alarms.setRemote(node);
  }

  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.failed(err, what);
    }
  }

  private answer(msg: { respond(data: string): boolean }, data: string): void {
    try {
      msg.respond(data);
    } catch {
      // Closed meanwhile: the asker stops waiting for this node after its heartbeats.
    }
  }
}

/** A heartbeat: `{"node": name, "alarms": ["memory", "disk"]}`; undefined if it is not one. */
function parseHeartbeat(text: string): { node: string; alarms: AlarmResource[] } | undefined {
  try {
    const v = JSON.parse(text) as { node?: unknown; alarms?: unknown };
    if (typeof v.node !== 'string' || v.node === '') return undefined;
    const alarms = Array.isArray(v.alarms)
      ? v.alarms.filter((a): a is AlarmResource => a === 'memory' || a === 'disk')
      : [];
    return { node: v.node, alarms };
  } catch {
    return undefined;
  }
}

/** An answer on ASK_SUBJECT: `{"node": name, "answer": ...}` or `{"node": name, "error": ...}`. */
function parseAnswer(text: string): { node: string; answer?: unknown } | undefined {
  try {
    const v = JSON.parse(text) as { node?: unknown; answer?: unknown };
    if (typeof v.node !== 'string') return undefined;
    return 'answer' in v ? { node: v.node, answer: v.answer } : { node: v.node };
  } catch {
    return undefined;
  }
}

/** The node of `nodes` chosen for a queue: the highest score of its name with the queue's (ties: the first name). */
export function chosenNode(nodes: readonly string[], vhost: string, queue: string): string {
  let best = '';
  let bestScore = -1;
  for (const node of nodes) {
    const s = score(node, vhost, queue);
    if (s > bestScore || (s === bestScore && node < best)) {
      best = node;
      bestScore = s;
    }
  }
  return best;
}

/** FNV-1a (32 bits) of a node's name with a queue's: the node's score for the queue. */
function score(node: string, vhost: string, queue: string): number {
  let h = 0x811c9dc5;
  for (const part of [node, vhost, queue]) {
    for (let i = 0; i < part.length; i++) h = Math.imul(h ^ part.charCodeAt(i), 0x01000193);
    // A separator no name holds, so ("ab", "c") and ("a", "bc") score apart.
    h = Math.imul(h ^ 0xffff, 0x01000193);
  }
  return h >>> 0;
}

/** A JSON array of `length` strings; undefined if it is not one. */
function parseStrings(text: string, length: number): string[] | undefined {
  const v = parseRequest(text, length);
  return v?.every((x) => typeof x === 'string') === true ? (v as string[]) : undefined;
}

/** A request: a JSON array of `length` values, its last the asker's name; undefined if it is not one. */
function parseRequest(text: string, length: number): unknown[] | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (!Array.isArray(v) || v.length !== length || typeof v[length - 1] !== 'string') return undefined;
    return v as unknown[];
  } catch {
    return undefined;
  }
}
