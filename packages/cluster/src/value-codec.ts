/*
 * Topology records (and message properties) as UTF-8 JSON, lossless for everything a field table holds.
 * JSON, not the journal's binary tagged values, so `nats kv get warren-topology q._2f.orders` shows an operator
 * what is stored, and so a record's bytes do not depend on a private format of @warren/journal (whose codec
 * writes into its batch buffer and is not exported; a cluster is also read by nodes of other versions).
 *
 *   value   := JSON, where a value JSON cannot hold exactly is a one-key object whose key is a tag:
 *     Buffer                        {"$b": "<base64>"}
 *     bigint                        {"$n": "<decimal>"}            AMQP's 64-bit integers, any width
 *     Date                          {"$d": <ms since the epoch>}
 *     Decimal                       {"$m": [<places>, <value>]}
 *     NaN, Infinity, -Infinity, -0  {"$f": "NaN" | "Infinity" | "-Infinity" | "-0"}
 *   A key of a plain object that starts with '$' is written with one more '$' ("$x" -> "$$x"), so a one-key
 *   object whose key is a single-'$' tag is always a tag. Keys whose value is undefined are left out (an
 *   absent property is undefined in the core, never null).
 */
import { Decimal, type FieldValue, type MessageProperties, type TopologyRecord } from '@warren/core';

export class ValueCodecError extends Error {
  override readonly name = 'ValueCodecError';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const MAX_DEPTH = 64;

/** What the codec round-trips: field values and the plain objects (records, properties) that hold them. */
export type CodecValue = FieldValue | undefined | CodecValue[] | { [key: string]: CodecValue };

function toJson(v: CodecValue, depth: number): Json | undefined {
  if (depth > MAX_DEPTH) throw new ValueCodecError('value nested too deeply');
  switch (typeof v) {
    case 'undefined':
      return undefined;
    case 'boolean':
    case 'string':
      return v;
    case 'number':
      if (Number.isFinite(v) && !Object.is(v, -0)) return v;
      return { $f: Object.is(v, -0) ? '-0' : String(v) };
    case 'bigint':
      return { $n: v.toString() };
    case 'object':
      break;
    default:
      throw new ValueCodecError(`cannot encode a ${typeof v}`);
  }
  if (v === null) return null;
  if (Buffer.isBuffer(v)) return { $b: v.toString('base64') };
  if (v instanceof Date) return { $d: v.getTime() };
  if (v instanceof Decimal) return { $m: [v.places, v.value] };
  if (Array.isArray(v)) return v.map((x) => toJson(x, depth + 1) ?? null);
  const out: { [key: string]: Json } = {};
  for (const k of Object.keys(v)) {
    const j = toJson(v[k], depth + 1);
    if (j === undefined) continue;
    setOwn(out, k.startsWith('$') ? '$' + k : k, j);
  }
  return out;
}

function fromJson(j: Json, depth: number): CodecValue {
  if (depth > MAX_DEPTH) throw new ValueCodecError('value nested too deeply');
  if (j === null || typeof j !== 'object') return j;
  if (Array.isArray(j)) return j.map((x) => fromJson(x, depth + 1));
  const keys = Object.keys(j);
  const tag = keys.length === 1 && keys[0] !== undefined && /^\$[a-z]$/.test(keys[0]) ? keys[0] : undefined;
  if (tag !== undefined) return fromTag(tag, j[tag] as Json);
  const out: { [key: string]: CodecValue } = {};
  for (const k of keys) {
    if (k.startsWith('$') && !k.startsWith('$$')) throw new ValueCodecError(`unknown tag ${k}`);
    setOwn(out, k.startsWith('$') ? k.slice(1) : k, fromJson(j[k] as Json, depth + 1));
  }
  return out;
}

function fromTag(tag: string, v: Json): CodecValue {
  switch (tag) {
    case '$b':
      if (typeof v === 'string') return Buffer.from(v, 'base64');
      break;
    case '$n':
      if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
      break;
    case '$d':
      if (typeof v === 'number') return new Date(v);
      break;
    case '$m':
      if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'number')
        return new Decimal(v[0], v[1]);
      break;
    case '$f':
      if (v === '-0') return -0;
      if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
      break;
  }
  throw new ValueCodecError(`bad ${tag} value`);
}

/** A key named __proto__ is data (a header may be called that), never a prototype change. */
function setOwn<T>(o: { [key: string]: T }, k: string, v: T): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

export function encodeValue(v: CodecValue): Buffer {
  return Buffer.from(JSON.stringify(toJson(v, 0) ?? null), 'utf8');
}

export function decodeValue(bytes: Uint8Array): CodecValue {
  let j: Json;
  try {
    j = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as Json;
  } catch (err) {
    throw new ValueCodecError(`not JSON: ${(err as Error).message}`);
  }
  return fromJson(j, 0);
}

/** The same encoding with object keys sorted: one string per value, whatever the insertion order. */
export function canonicalJson(v: CodecValue): string {
  return JSON.stringify(sortKeys(toJson(v, 0) ?? null));
}

function sortKeys(j: Json): Json {
  if (j === null || typeof j !== 'object') return j;
  if (Array.isArray(j)) return j.map(sortKeys);
  const out: { [key: string]: Json } = {};
  for (const k of Object.keys(j).sort()) setOwn(out, k, sortKeys(j[k] as Json));
  return out;
}

const KINDS = new Set<string>([
  'vhost',
  'user',
  'permission',
  'topic-permission',
  'exchange',
  'queue',
  'stream-chunk',
  'binding',
]);

export function encodeRecord(record: TopologyRecord): Buffer {
  return encodeValue(record as unknown as CodecValue);
}

/** Decodes a record; checks the envelope (an object with a known kind), not every field of every kind. */
export function decodeRecord(bytes: Uint8Array): TopologyRecord {
  const v = decodeValue(bytes);
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) {
    throw new ValueCodecError('a topology record is an object');
  }
  const kind = (v as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !KINDS.has(kind))
    throw new ValueCodecError(`unknown record kind ${String(kind)}`);
  return v as unknown as TopologyRecord;
}

export function encodeProperties(p: MessageProperties): Buffer {
  return encodeValue(p as unknown as CodecValue);
}

export function decodeProperties(bytes: Uint8Array): MessageProperties {
  const v = decodeValue(bytes);
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) {
    throw new ValueCodecError('properties are an object');
  }
  return v as MessageProperties;
}
