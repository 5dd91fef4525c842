/*
 * Names (vhosts, queues, exchanges, users, routing keys: any UTF-8) as NATS subject tokens, KV keys and
 * stream names, reversibly.
 *
 *   token  := "_"                      the empty string (a NATS token may not be empty)
 *           | piece+
 *   piece  := [A-Za-z0-9-]             that byte of the name's UTF-8
 *           | "_" hex hex              any other byte, two lowercase hex digits ("a.b" -> "a_2eb", "/" -> "_2f")
 *
 * A token is a valid subject token (no '.', '*', '>', whitespace, never empty), a valid KV key token
 * (KV keys allow [-/_=.a-zA-Z0-9]) and a valid part of a stream name. Exactly one token encodes each name, so
 * decode refuses uppercase hex and escapes of bytes that pass through (then encode(decode(t)) === t too).
 * Names stay readable for operators where they are ASCII: `orders` is `orders`, `amq.topic` is `amq_2etopic`.
 *
 * Topology keys (the KV bucket), a kind then the record's identity, one token each, '.'-separated:
 *
 *   v.<vhost>                                        vhost
 *   u.<user>                                         user
 *   p.<vhost>.<user>                                 permission
 *   t.<vhost>.<user>.<exchange>                      topic permission
 *   x.<vhost>.<exchange>                             exchange
 *   q.<vhost>.<queue>                                queue
 *   b.<vhost>.<source>.<q|x>.<destination>.<routing key>.<args>   binding
 *   s.<vhost>.<stream>.<offset>                      stream chunk (offset in decimal)
 *   (pol.<vhost>.<name> is kept for policies, which the core does not store yet)
 *
 * The vhost comes right after the kind, so one vhost's objects of one kind are the KV filter `q.<vhost>.>`.
 * A binding's `<args>` is `-` for no arguments, else 32 hex digits of the SHA-256 of its arguments' canonical
 * encoding (sorted keys): bindings that differ only in arguments are distinct objects, as in RabbitMQ; the
 * arguments themselves are in the value. Keys stay under NATS' 4 KiB control line: a routing key is at most
 * 255 bytes (765 encoded), as is each name.
 */
import { createHash } from 'node:crypto';
import type { FieldTable, TopologyRecord } from '@warren/core';
import { canonicalJson } from './value-codec';

const HEX = '0123456789abcdef';
const PLAIN_NAME = /^[A-Za-z0-9-]+$/;

/** Bytes that stand for themselves in a token: [A-Za-z0-9-]. */
const PLAIN = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const c = String.fromCharCode(b);
  PLAIN[b] = /[A-Za-z0-9-]/.test(c) ? 1 : 0;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export class KeyCodecError extends Error {
  override readonly name = 'KeyCodecError';
}

export function encodeToken(name: string): string {
  if (name === '') return '_';
  // A lone surrogate has no UTF-8 form: Buffer.from would turn it into U+FFFD and the round trip would lie.
  if (LONE_SURROGATE.test(name)) throw new KeyCodecError('name is not well-formed Unicode (lone surrogate)');
  if (PLAIN_NAME.test(name)) return name; // the common case: its own token
  let out = '';
  const bytes = Buffer.from(name, 'utf8');
  for (const b of bytes) {
    if (PLAIN[b] === 1) out += String.fromCharCode(b);
    else out += '_' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

export function decodeToken(token: string): string {
  if (token === '_') return '';
  if (token === '') throw new KeyCodecError('empty token');
  const bytes = Buffer.allocUnsafe(token.length);
  let n = 0;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c < 128 && PLAIN[c] === 1) {
      bytes[n++] = c;
      continue;
    }
    if (c !== 0x5f /* _ */) throw new KeyCodecError(`bad character '${token[i]}' in token ${quote(token)}`);
    const hi = HEX.indexOf(token[i + 1] ?? 'x');
    const lo = HEX.indexOf(token[i + 2] ?? 'x');
    if (hi < 0 || lo < 0) throw new KeyCodecError(`bad escape at ${i} in token ${quote(token)}`);
    const b = (hi << 4) | lo;
    if (PLAIN[b] === 1) throw new KeyCodecError(`escaped plain byte at ${i} in token ${quote(token)}`);
    bytes[n++] = b;
    i += 2;
  }
  try {
    return UTF8.decode(bytes.subarray(0, n));
  } catch {
    throw new KeyCodecError(`token ${quote(token)} is not UTF-8`);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? s.slice(0, 64) + '...' : s);
}

/** The subject a durable queue's messages are published on: `warren.q.<vhost>.<queue>`. */
export function queueSubject(vhost: string, queue: string): string {
  return `warren.q.${encodeToken(vhost)}.${encodeToken(queue)}`;
}

/**
 * The work-queue stream of a durable queue: `WQ_<vhost>~<queue>` (tokens never contain '~'). A stream's name
 * is a directory name on every server, so past 200 characters it becomes the first 120 then `~~` and 32 hex
 * digits of a SHA-256 of both names ('~~' never occurs in the short form, so the two forms cannot meet). Not
 * meant to be parsed back: the queue's record in the topology bucket says which stream is whose.
 */
export function queueStreamName(vhost: string, queue: string): string {
  return streamName('WQ', vhost, queue);
}

/** The subject a stream queue's log takes its messages on: `warren.s.<vhost>.<queue>`. */
export function logSubject(vhost: string, queue: string): string {
  return `warren.s.${encodeToken(vhost)}.${encodeToken(queue)}`;
}

/** The limits-retention stream of a stream queue: `LOG_<vhost>~<queue>`, shortened as queueStreamName is. */
export function logStreamName(vhost: string, queue: string): string {
  return streamName('LOG', vhost, queue);
}

function streamName(prefix: string, vhost: string, queue: string): string {
  const name = `${prefix}_${encodeToken(vhost)}~${encodeToken(queue)}`;
  if (name.length <= 200) return name;
  const digest = createHash('sha256').update(vhost).update('\u0000').update(queue).digest('hex');
  return `${name.slice(0, 120)}~~${digest.slice(0, 32)}`;
}

/** What a topology key names, decoded. */
export type ParsedKey =
  | { kind: 'vhost'; vhost: string }
  | { kind: 'user'; user: string }
  | { kind: 'permission'; vhost: string; user: string }
  | { kind: 'topic-permission'; vhost: string; user: string; exchange: string }
  | { kind: 'exchange'; vhost: string; name: string }
  | { kind: 'queue'; vhost: string; name: string }
  | {
      kind: 'binding';
      vhost: string;
      source: string;
      destinationKind: 'queue' | 'exchange';
      destination: string;
      routingKey: string;
      /** '-' (no arguments) or the hex digest of the arguments. */
      argumentsId: string;
    }
  | { kind: 'stream-chunk'; vhost: string; name: string; offset: number };

/** The KV key of a record (see the grammar at the top). */
export function recordKey(record: TopologyRecord): string {
  const t = encodeToken;
  switch (record.kind) {
    case 'vhost':
      return `v.${t(record.name)}`;
    case 'user':
      return `u.${t(record.name)}`;
    case 'permission':
      return `p.${t(record.vhost)}.${t(record.user)}`;
    case 'topic-permission':
      return `t.${t(record.vhost)}.${t(record.user)}.${t(record.exchange)}`;
    case 'exchange':
      return `x.${t(record.vhost)}.${t(record.name)}`;
    case 'queue':
      return `q.${t(record.vhost)}.${t(record.name)}`;
    case 'binding':
      return (
        `b.${t(record.vhost)}.${t(record.source)}.${record.destinationKind === 'queue' ? 'q' : 'x'}.` +
        `${t(record.destination)}.${t(record.routingKey)}.${argumentsId(record.arguments)}`
      );
    case 'stream-chunk':
      if (!Number.isSafeInteger(record.offset) || record.offset < 0) {
        throw new KeyCodecError(`stream chunk offset ${record.offset} is not a non-negative integer`);
      }
      return `s.${t(record.vhost)}.${t(record.name)}.${record.offset}`;
  }
}

/** `-` for an empty table, else 32 hex digits of the SHA-256 of its canonical JSON (keys sorted). */
export function argumentsId(args: FieldTable): string {
  if (Object.keys(args).length === 0) return '-';
  return createHash('sha256').update(canonicalJson(args)).digest('hex').slice(0, 32);
}

const ARGS_ID = /^(-|[0-9a-f]{32})$/;
const OFFSET = /^(0|[1-9][0-9]{0,15})$/;

/** The inverse of recordKey, for keys a watch hands over. Throws KeyCodecError for anything else. */
export function parseKey(key: string): ParsedKey {
  const parts = key.split('.');
  const d = (i: number): string => decodeToken(parts[i] ?? '');
  const arity = (n: number): void => {
    if (parts.length !== n) throw new KeyCodecError(`key ${quote(key)} should have ${n} tokens`);
  };
  switch (parts[0]) {
    case 'v':
      arity(2);
      return { kind: 'vhost', vhost: d(1) };
    case 'u':
      arity(2);
      return { kind: 'user', user: d(1) };
    case 'p':
      arity(3);
      return { kind: 'permission', vhost: d(1), user: d(2) };
    case 't':
      arity(4);
      return { kind: 'topic-permission', vhost: d(1), user: d(2), exchange: d(3) };
    case 'x':
      arity(3);
      return { kind: 'exchange', vhost: d(1), name: d(2) };
    case 'q':
      arity(3);
      return { kind: 'queue', vhost: d(1), name: d(2) };
    case 'b': {
      arity(7);
      const kind = parts[3];
      const id = parts[6] ?? '';
      if (kind !== 'q' && kind !== 'x') throw new KeyCodecError(`binding key ${quote(key)}: bad kind`);
      if (!ARGS_ID.test(id)) throw new KeyCodecError(`binding key ${quote(key)}: bad arguments id`);
      return {
        kind: 'binding',
        vhost: d(1),
        source: d(2),
        destinationKind: kind === 'q' ? 'queue' : 'exchange',
        destination: d(4),
        routingKey: d(5),
        argumentsId: id,
      };
    }
    case 's': {
      arity(4);
      const offset = parts[3] ?? '';
      if (!OFFSET.test(offset)) throw new KeyCodecError(`stream chunk key ${quote(key)}: bad offset`);
      return { kind: 'stream-chunk', vhost: d(1), name: d(2), offset: Number(offset) };
    }
    default:
      throw new KeyCodecError(`unknown key kind in ${quote(key)}`);
  }
}
