import fc from 'fast-check';
import {
  checkFieldTable,
  checkProperties,
  decodeFieldTable,
  decodeProperties,
  encodeFieldTable,
  encodeProperties,
} from '@warren/amqp';
import { fieldValuesEqual, isWarrenError } from '@warren/core';
import { fieldTable, properties } from '../amqp-wire';
import { mutate } from './amqp-frames';
import { invariant, type FuzzTarget } from '../target';

export interface FieldTableInput {
  /** Encoded tables (or property lists) damaged by the same mutations as the frame fuzzer's. */
  bytes: Buffer;
  asProperties: boolean;
}

export const fieldTableInput: fc.Arbitrary<FieldTableInput> = fc
  .tuple(
    fc.boolean(),
    fieldTable,
    properties,
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => Buffer.from(b)),
      ),
      { maxLength: 2 },
    ),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 8 })), { maxLength: 2 }),
  )
  .map(([asProperties, table, props, flips, inserts, deletes]) => {
    let stream: Buffer;
    try {
      stream = asProperties ? encodeProperties(props) : encodeFieldTable(table);
    } catch {
      stream = Buffer.alloc(0);
    }
    return { asProperties, bytes: mutate({ stream, flips, inserts, deletes, cuts: [] }) };
  });

function outcome(fn: () => unknown): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * The door check and the decoder must agree on every input: what checkFieldTable / checkProperties accept
 * decodes without error (else a lazy decode could still fail in another client's turn), what they refuse the
 * decoder refuses too, every refusal is a WarrenError (a protocol error with a reply code, never a RangeError),
 * and an accepted table survives encode -> decode unchanged.
 */
export const fieldTableTarget: FuzzTarget<FieldTableInput> = {
  name: 'field-table',
  description: 'AMQP field tables and content properties: door check vs decoder vs encoder',
  arbitrary: fieldTableInput,
  run({ bytes, asProperties }) {
    let checked;
    let decoded;
    if (asProperties) {
      checked = outcome(() => checkProperties(bytes));
      decoded = outcome(() => decodeProperties(bytes));
    } else {
      const end = bytes.length >= 4 ? Math.min(bytes.length, 4 + bytes.readUInt32BE(0)) : 0;
      const body = bytes.subarray(Math.min(4, bytes.length), end);
      checked = outcome(() => checkFieldTable(body, 0, body.length));
      decoded = outcome(() => decodeFieldTable(body, 0, body.length));
    }
    invariant(
      checked.ok === decoded.ok,
      () =>
        `door check ${checked.ok ? 'accepted' : 'refused'} what the decoder ${decoded.ok ? 'accepted' : 'refused'}: ${bytes.toString('hex')}`,
    );
    if (!checked.ok)
      invariant(isWarrenError(checked.error), () => `not a protocol error: ${String(checked.error)}`);
    if (!decoded.ok)
      invariant(isWarrenError(decoded.error), () => `not a protocol error: ${String(decoded.error)}`);
    if (decoded.ok && !asProperties) {
      const table = decoded.value as ReturnType<typeof decodeFieldTable>;
      const again = outcome(() => {
        const enc = encodeFieldTable(table);
        return decodeFieldTable(enc, 4, enc.length);
      });
      // A decoded table may hold a value its encoder writes with another type code (a 'b' read back as 'I'):
      // equal as values, which is what forwarding must keep.
      invariant(again.ok, () => `a decoded table does not encode again: ${String(!again.ok && again.error)}`);
      invariant(
        fieldValuesEqual(table, again.value as typeof table),
        () => `encode(decode(x)) changed the table: ${bytes.toString('hex')}`,
      );
    }
  },
};
