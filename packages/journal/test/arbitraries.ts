import fc from 'fast-check';
import {
  Decimal,
  topologyKey,
  type FieldTable,
  type FieldValue,
  type StoreOp,
  type TopologyRecord,
} from '@warren/core';

/*
 * Store operations generated the way the core produces them: a message's first enqueue carries its body,
 * later ones (other queues) do not; settles and deliveries mostly name held entries, sometimes unknown ones.
 */

const fieldValue: fc.Arbitrary<FieldValue> = fc.letrec<{ v: FieldValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
    fc.string(),
    fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
    fc.date({ noInvalidDate: true }),
    fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer()).map(([p, v]) => new Decimal(p, v)),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), tie('v'), { maxKeys: 3 }) as fc.Arbitrary<FieldTable>,
  ),
})).v;

const table = fc.dictionary(fc.string({ maxLength: 6 }), fieldValue, {
  maxKeys: 3,
}) as fc.Arbitrary<FieldTable>;
const name = fc.constantFrom('a', 'b', 'c', 'ü-é', '');

const record: fc.Arbitrary<TopologyRecord> = fc.oneof(
  name.map((n) => ({ kind: 'vhost' as const, name: n })),
  fc.tuple(name, table, fc.boolean()).map(([n, args, ad]) => ({
    kind: 'queue' as const,
    vhost: '/',
    name: n,
    durable: true as const,
    autoDelete: ad,
    arguments: args,
  })),
  fc.tuple(name, fc.constantFrom('direct', 'topic'), table).map(([n, type, args]) => ({
    kind: 'exchange' as const,
    vhost: '/',
    name: n,
    type,
    durable: true as const,
    autoDelete: false,
    internal: false,
    arguments: args,
  })),
  fc.tuple(name, name, fc.string({ maxLength: 4 })).map(([s, d, rk]) => ({
    kind: 'binding' as const,
    vhost: '/',
    source: s,
    destination: d,
    destinationKind: 'queue' as const,
    routingKey: rk,
    arguments: {},
  })),
  fc.tuple(name, fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 })).map(([n, tags]) => ({
    kind: 'user' as const,
    name: n,
    passwordHash: 'x',
    tags,
  })),
);

export type Command =
  | { c: 'put'; record: TopologyRecord }
  | { c: 'delete'; pick: number }
  | {
      c: 'publish';
      queues: number[];
      size: number;
      headers: FieldTable;
      priority: number | undefined;
      /** How far the id moves on: the broker's ids are shared by every queue and pass 2^31 and 2^32. */
      idGap: number;
    }
  | { c: 'deliver'; queue: number; pick: number }
  | { c: 'settle'; queue: number; pick: number }
  | { c: 'drop'; queue: number }
  | { c: 'end-batch' }
  | { c: 'reopen' }
  | { c: 'idle' };

const queueIx = fc.integer({ min: 0, max: 2 });
export const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: record.map((r) => ({ c: 'put' as const, record: r })), weight: 2 },
  { arbitrary: fc.nat().map((p) => ({ c: 'delete' as const, pick: p })), weight: 1 },
  {
    arbitrary: fc
      .record({
        queues: fc.uniqueArray(queueIx, { minLength: 1, maxLength: 3 }),
        size: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 900, max: 3000 })),
        headers: table,
        priority: fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }),
        idGap: fc.oneof(
          { weight: 10, arbitrary: fc.constant(1) },
          { weight: 1, arbitrary: fc.constantFrom(2 ** 31, 2 ** 32 + 7, 1000) },
        ),
      })
      .map((r) => ({ c: 'publish' as const, ...r })),
    weight: 8,
  },
  {
    arbitrary: fc.tuple(queueIx, fc.nat()).map(([q, p]) => ({ c: 'deliver' as const, queue: q, pick: p })),
    weight: 3,
  },
  {
    arbitrary: fc.tuple(queueIx, fc.nat()).map(([q, p]) => ({ c: 'settle' as const, queue: q, pick: p })),
    weight: 6,
  },
  { arbitrary: queueIx.map((q) => ({ c: 'drop' as const, queue: q })), weight: 1 },
  { arbitrary: fc.constant({ c: 'end-batch' as const }), weight: 4 },
  { arbitrary: fc.constant({ c: 'reopen' as const }), weight: 1 },
  { arbitrary: fc.constant({ c: 'idle' as const }), weight: 1 },
);

/** Names of different lengths: each queue's ENQUEUE records have their own length. */
export const QUEUES = ['/\u0000q0', '/\u0000queue-one', '/\u0000ü-2'];

/** Turns commands into store operations, tracking what each queue holds so settles name real entries. */
export class OpBuilder {
  batch: StoreOp[] = [];
  private readonly held = QUEUES.map(() => [] as number[]);
  private readonly keys: string[] = [];
  private nextId = 0;

  /** Adds the command's operations to the current batch; false for the control commands. */
  add(cmd: Command): boolean {
    switch (cmd.c) {
      case 'put': {
        const key = topologyKey(cmd.record);
        if (!this.keys.includes(key)) this.keys.push(key);
        this.batch.push({ op: 'put', key, record: cmd.record });
        return true;
      }
      case 'delete':
        if (this.keys.length > 0) {
          this.batch.push({ op: 'delete', key: this.keys[cmd.pick % this.keys.length] as string });
        }
        return true;
      case 'publish': {
        const id = (this.nextId += cmd.idGap);
        const body = Buffer.alloc(cmd.size, id % 251);
        const properties = { deliveryMode: 2, headers: cmd.headers, priority: cmd.priority };
        cmd.queues.forEach((qi, i) => {
          this.batch.push({
            op: 'enqueue',
            queue: QUEUES[qi] as string,
            id,
            message: i === 0 ? { id, exchange: 'x', routingKey: 'k', properties, body } : undefined,
          });
          (this.held[qi] as number[]).push(id);
        });
        return true;
      }
      case 'deliver':
      case 'settle': {
        const list = this.held[cmd.queue] as number[];
        const id =
          list.length > 0 && cmd.pick % 5 !== 0 ? (list[cmd.pick % list.length] as number) : cmd.pick + 1;
        if (cmd.c === 'settle') {
          const at = list.indexOf(id);
          if (at >= 0) list.splice(at, 1);
        }
        this.batch.push({
          op: cmd.c === 'settle' ? 'settle' : 'delivered',
          queue: QUEUES[cmd.queue] as string,
          id,
        });
        return true;
      }
      case 'drop':
        this.batch.push({ op: 'drop-queue', queue: QUEUES[cmd.queue] as string });
        this.held[cmd.queue] = [];
        return true;
      default:
        return false;
    }
  }

  take(): StoreOp[] {
    const b = this.batch;
    this.batch = [];
    return b;
  }
}
