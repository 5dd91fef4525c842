/**
 * Command-line options of warren-perf. Flag names follow the shared C harness (amqp-load) where the concept is
 * the same, so a scenario reads the same against either tool.
 */
import { parseArgs } from 'node:util';

export type AckMode = 'auto' | 'manual';

export interface PerfOptions {
  host: string;
  port: number;
  user: string;
  pass: string;
  vhost: string;
  producers: number;
  consumers: number;
  /** Full body size in octets; the first 8 carry the send time, the next 8 producer id and sequence. */
  size: number;
  persistent: boolean;
  /** Publisher confirms: the largest span of unconfirmed delivery tags; 0 = confirms off. */
  confirm: number;
  ack: AckMode;
  prefetch: number;
  ackEvery: number;
  /** Fanout exchange bound to this many queues; 0 = not a fanout run. */
  fanout: number;
  /** Topic exchange with this many bindings `t.<i>.*`; 0 = not a topic run. */
  topic: number;
  queues: number;
  duration: number;
  warmup: number;
  /** Total messages instead of a duration; 0 = use the duration. */
  count: number;
  /** Total msgs/s over all producers; 0 = as fast as the socket allows. */
  rate: number;
  maxBacklog: number;
  drainTimeout: number;
  /** Messages per socket write; 0 = sized automatically (about 64 KiB per write). */
  publishBatch: number;
  frameMax: number;
  queue: string | undefined;
  keep: boolean;
  json: boolean;
  progress: boolean;
  label: string;
  brokerPid: number;
  repeat: number;
}

export class UsageError extends Error {}

export const USAGE = `usage: warren-perf [options]

  --host H, --port P           broker (127.0.0.1:5672)
  --user U, --pass P, --vhost V credentials (guest, guest, /)
  -x, --producers N            producers, one connection each (1)
  -y, --consumers M            consumers, one connection each (1)
  -s, --size B                 body octets, >= 16; 1k, 64k accepted (16)
  --persistent                 durable queues/exchange and delivery-mode 2
  -c, --confirm W              publisher confirms, at most W unconfirmed in flight (0 = off)
  --ack auto|manual            no-ack consume, or basic.ack (auto)
  -q, --prefetch K             basic.qos prefetch-count (0 = not sent)
  --ack-every N                manual ack with multiple=true every N deliveries (1)
  --fanout Q                   fanout exchange bound to Q queues
  --topic B                    topic exchange with B bindings t.<i>.*, key t.<n mod B>.m
  --queues Q                   queues for direct/topic runs (1)
  -z, --duration S             measured seconds (10)
  --warmup S                   seconds run before the measurement window (0)
  -C, --count N                total messages instead of a duration
  -r, --rate R                 total publish rate in msgs/s (0 = unlimited)
  --max-backlog N              pause producers while published x fanout - consumed > N
  --drain-timeout S            max wait for consumers after producers stop (5)
  --publish-batch N            messages per socket write (0 = about 64 KiB per write)
  --frame-max N                requested frame-max (131072)
  --queue NAME                 queue base name (purged first; default perf-<runid>)
  --keep                       do not delete queues/exchange at the end
  --repeat R                   run the scenario R times, one result each (1)
  --json                       one JSON object per run on stdout instead of a table
  --progress                   one line per second on stderr
  --label L                    label carried in the output
  --broker-pid PID             sample the broker's CPU from /proc
  -h, --help                   this text
`;

/** "16", "1k", "64K", "1m": binary multiples, as amqp-load accepts them. */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+)([kKmM]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: not a size: ${text}`);
  const unit = m[2]?.toLowerCase();
  return Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1);
}

function num(text: string | undefined, flag: string, fallback: number, min = 0): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || v < min)
    throw new UsageError(`${flag}: expected a number >= ${min}, got ${text}`);
  return v;
}

function int(text: string | undefined, flag: string, fallback: number, min = 0): number {
  const v = num(text, flag, fallback, min);
  if (!Number.isInteger(v)) throw new UsageError(`${flag}: expected an integer, got ${text}`);
  return v;
}

const STRING_FLAGS = [
  'host',
  'port',
  'user',
  'pass',
  'vhost',
  'ack',
  'ack-every',
  'fanout',
  'topic',
  'queues',
  'warmup',
  'max-backlog',
  'drain-timeout',
  'publish-batch',
  'frame-max',
  'queue',
  'label',
  'broker-pid',
  'repeat',
] as const;

const SHORT_FLAGS = {
  producers: 'x',
  consumers: 'y',
  size: 's',
  confirm: 'c',
  prefetch: 'q',
  duration: 'z',
  count: 'C',
  rate: 'r',
} as const;

/** Parses argv; returns undefined for --help. Throws UsageError for anything the run could not honour. */
export function parseOptions(argv: readonly string[]): PerfOptions | undefined {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const f of STRING_FLAGS) options[f] = { type: 'string' };
  for (const [f, short] of Object.entries(SHORT_FLAGS)) options[f] = { type: 'string', short };
  for (const f of ['persistent', 'keep', 'json', 'progress']) options[f] = { type: 'boolean' };
  options['help'] = { type: 'boolean', short: 'h' };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values['help'] === true) return undefined;
  const s = (k: string): string | undefined => {
    const v = values[k];
    return typeof v === 'string' ? v : undefined;
  };
  const b = (k: string): boolean => values[k] === true;

  const ack = s('ack') ?? 'auto';
  if (ack !== 'auto' && ack !== 'manual') throw new UsageError(`--ack: auto or manual, got ${ack}`);
  const sizeText = s('size');
  const o: PerfOptions = {
    host: s('host') ?? '127.0.0.1',
    port: int(s('port'), '--port', 5672, 1),
    user: s('user') ?? 'guest',
    pass: s('pass') ?? 'guest',
    vhost: s('vhost') ?? '/',
    producers: int(s('producers'), '--producers', 1),
    consumers: int(s('consumers'), '--consumers', 1),
    size: sizeText === undefined ? 16 : parseSize(sizeText, '--size'),
    persistent: b('persistent'),
    confirm: int(s('confirm'), '--confirm', 0),
    ack,
    prefetch: int(s('prefetch'), '--prefetch', 0),
    ackEvery: int(s('ack-every'), '--ack-every', 1, 1),
    fanout: int(s('fanout'), '--fanout', 0),
    topic: int(s('topic'), '--topic', 0),
    queues: int(s('queues'), '--queues', 1, 1),
    duration: num(s('duration'), '--duration', 10),
    warmup: num(s('warmup'), '--warmup', 0),
    count: int(s('count'), '--count', 0),
    rate: num(s('rate'), '--rate', 0),
    maxBacklog: int(s('max-backlog'), '--max-backlog', 0),
    drainTimeout: num(s('drain-timeout'), '--drain-timeout', 5),
    publishBatch: int(s('publish-batch'), '--publish-batch', 0),
    frameMax: int(s('frame-max'), '--frame-max', 131072),
    queue: s('queue'),
    keep: b('keep'),
    json: b('json'),
    progress: b('progress'),
    label: s('label') ?? '',
    brokerPid: int(s('broker-pid'), '--broker-pid', 0),
    repeat: int(s('repeat'), '--repeat', 1, 1),
  };
  return validate(o);
}

function validate(o: PerfOptions): PerfOptions {
  if (o.size < 16) throw new UsageError('--size: at least 16 (timestamp, producer id and sequence)');
  if (o.fanout > 0 && o.topic > 0) throw new UsageError('--fanout and --topic exclude each other');
  if (o.fanout > 0) o.queues = o.fanout;
  // Every queue needs a consumer, or its messages never drain and the run cannot tell lost from unconsumed.
  if (o.consumers > 0 && o.consumers < o.queues) {
    throw new UsageError(`--consumers ${o.consumers} < ${o.queues} queues: every queue needs a consumer`);
  }
  // With ack-every above the prefetch window the broker stops delivering before the consumer ever acks.
  if (o.ack === 'manual' && o.prefetch > 0 && o.ackEvery > o.prefetch) {
    throw new UsageError(`--ack-every ${o.ackEvery} > --prefetch ${o.prefetch} would stall the consumer`);
  }
  if (o.count === 0 && o.duration <= 0) throw new UsageError('--duration must be > 0 without --count');
  if (o.frameMax !== 0 && o.frameMax < 4096) throw new UsageError('--frame-max: 0 or at least 4096');
  if (o.producers === 0 && o.consumers === 0)
    throw new UsageError('nothing to run: no producers, no consumers');
  return o;
}
