import type { FieldTable } from '@warren/core';
import { badRequest } from './errors';

/*
 * Reading request bodies as RabbitMQ does: rabbitmqadmin sends booleans and counts as strings
 * ("durable": "true", "count": "1"), so both forms are accepted; anything else is a 400 naming the field.
 */

type Body = Readonly<Record<string, unknown>>;

export function bool(body: Body, name: string, fallback: boolean): boolean {
  const v = body[name];
  if (v === undefined || v === null) return fallback;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw badRequest(`not_boolean: ${name} = ${JSON.stringify(v)}`);
}

export function int(body: Body, name: string, fallback: number): number {
  const v = body[name];
  if (v === undefined || v === null) return fallback;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw badRequest(`not_integer: ${name} = ${JSON.stringify(v)}`);
  }
  return n;
}

export function str(body: Body, name: string, fallback?: string): string {
  const v = body[name];
  if (v === undefined || v === null) {
    if (fallback === undefined) throw badRequest(`Missing field: ${name}`);
    return fallback;
  }
  if (typeof v !== 'string') throw badRequest(`not_string: ${name} = ${JSON.stringify(v)}`);
  return v;
}

export function table(body: Body, name: string): FieldTable {
  const v = body[name];
  if (v === undefined || v === null || v === '') return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`not_table: ${name}`);
  return v as FieldTable;
}

/** RabbitMQ's tags: an array, or a comma-separated string ("administrator,monitoring"). */
export function tags(body: Body, name: string): string[] {
  const v = body[name];
  if (v === undefined || v === null) return [];
  if (typeof v === 'string')
    return v
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
  if (Array.isArray(v) && v.every((t) => typeof t === 'string')) return v as string[];
  throw badRequest(`not_tags: ${name}`);
}
