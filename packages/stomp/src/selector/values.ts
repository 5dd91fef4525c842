/*
 * How selector values compare. STOMP header values are text, so where JMS would compare a number with a
 * string (a type mismatch, UNKNOWN), a string that reads as a number is taken as that number and
 * 'true'/'false' as booleans.
 */
import type { SelectorValue } from './parser';

const NUMERIC = /^\s*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*$/;

export function asNumber(v: SelectorValue): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && NUMERIC.test(v)) return Number(v);
  return null;
}

export function asBoolean(v: SelectorValue): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return null;
}

/** -1, 0, 1, or null when the two values cannot be compared (NULL, or kinds that do not mix). */
export function compare(a: SelectorValue, b: SelectorValue): number | null {
  if (a === null || b === null) return null;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' || typeof b === 'boolean') {
    const x = asBoolean(a);
    const y = asBoolean(b);
    if (x === null || y === null) return null;
    return x === y ? 0 : x ? 1 : -1;
  }
  const x = asNumber(a);
  const y = asNumber(b);
  // NaN (an AMQP double header, or Infinity - Infinity) is neither below, above nor equal to anything, and
  // the ternary below would have called it equal to every number.
  if (x === null || y === null || Number.isNaN(x) || Number.isNaN(y)) return null;
  return x < y ? -1 : x > y ? 1 : 0;
}
