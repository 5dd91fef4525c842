/**
 * Protocol-neutral header values. AMQP field tables decode into these, STOMP headers are plain strings, and the
 * core builds them itself for `x-death`. Integer width is a codec concern: the AMQP encoder picks the narrowest
 * RabbitMQ type that holds a number (and keeps raw bytes when it can, so AMQP-to-AMQP forwarding is exact).
 */
export type FieldValue =
  null | boolean | number | bigint | string | Buffer | Date | Decimal | FieldValue[] | FieldTable;

export interface FieldTable {
  [key: string]: FieldValue;
}

/** AMQP decimal-value: `value / 10^places`, kept exact rather than as a float. */
export class Decimal {
  constructor(
    readonly places: number,
    readonly value: number,
  ) {}

  toNumber(): number {
    return this.value / 10 ** this.places;
  }
}

export function isFieldTable(v: FieldValue | undefined): v is FieldTable {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !Buffer.isBuffer(v) &&
    !(v instanceof Date) &&
    !(v instanceof Decimal)
  );
}

/** Structural equality with numeric kinds folded together (1 == 1n), as a headers exchange compares values. */
export function fieldValuesEqual(a: FieldValue | undefined, b: FieldValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    // Loose equality is exactly the number/bigint comparison wanted here (1 == 1n).
    return a == b;
  }
  if (typeof a !== typeof b) return false;
  if (Buffer.isBuffer(a)) return Buffer.isBuffer(b) && a.equals(b);
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof Decimal) return b instanceof Decimal && a.places === b.places && a.value === b.value;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!fieldValuesEqual(a[i], b[i])) return false;
    return true;
  }
  if (isFieldTable(a) && isFieldTable(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!Object.hasOwn(b, k) || !fieldValuesEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/** Reads an integer argument (x-max-length, x-message-ttl, ...) whatever numeric kind the codec produced. */
export function fieldInteger(v: FieldValue | undefined): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}
