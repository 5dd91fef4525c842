import { WarrenError } from '../errors';
import { fieldValuesEqual, type FieldTable, type FieldValue } from '../field-table';
import type { Message } from '../message';
import { Exchange, removeOne, type Binding, type Destination } from './exchange';

type MatchMode = 'all' | 'any' | 'all-with-x' | 'any-with-x';

interface HeadersBinding {
  readonly binding: Binding;
  readonly destination: Destination;
  readonly all: boolean;
  /**
   * The binding's arguments that take part in matching (x-match always excluded, x-* unless "-with-x"), as
   * two parallel arrays: an indexed walk over them measured faster than destructuring [key, value] tuples.
   */
  readonly keys: readonly string[];
  readonly values: readonly FieldValue[];
}

/**
 * Routes on message headers (AMQP 0-9-1 section 3.1.3.4 and RabbitMQ's extensions): a binding matches when
 * all (x-match=all, the default) or any (x-match=any) of its arguments equal the message's headers. An
 * argument whose value is void matches any value of a present header. Keys starting with "x-" are ignored
 * unless x-match is all-with-x / any-with-x.
 *
 * Cost per message: one own-property lookup in the message's headers per binding argument read, stopping
 * at the first that decides (a mismatch for all, a match for any), so at most the total number of binding
 * arguments; the number of headers the message carries does not enter into it (a lookup, not a scan).
 */
export class HeadersExchange extends Exchange {
  readonly type = 'headers';
  private readonly matchers: HeadersBinding[] = [];

  override validateBinding(args: FieldTable): void {
    matchMode(args);
  }

  route(msg: Message, out: Destination[]): void {
    if (this.matchers.length === 0) return;
    const headers = msg.properties.headers ?? {};
    for (let i = 0; i < this.matchers.length; i++) {
      const m = this.matchers[i] as HeadersBinding;
      if (matches(m, headers)) out.push(m.destination);
    }
  }

  protected onBind(b: Binding): void {
    const mode = matchMode(b.arguments);
    const withX = mode.endsWith('-with-x');
    const pairs = Object.entries(b.arguments).filter(
      ([k]) => k !== 'x-match' && (withX || !k.startsWith('x-')),
    );
    this.matchers.push({
      binding: b,
      destination: b.destination,
      all: mode.startsWith('all'),
      keys: pairs.map(([k]) => k),
      values: pairs.map(([, v]) => v),
    });
  }

  protected onUnbind(b: Binding): void {
    const found = this.matchers.find((m) => m.binding === b);
    if (found !== undefined) removeOne(this.matchers, found);
  }
}

function matches(m: HeadersBinding, headers: FieldTable): boolean {
  const { keys, values } = m;
  if (m.all) {
    for (let i = 0; i < keys.length; i++) {
      if (!pairMatches(headers, keys[i] as string, values[i] as FieldValue)) return false;
    }
    return true;
  }
  for (let i = 0; i < keys.length; i++) {
    if (pairMatches(headers, keys[i] as string, values[i] as FieldValue)) return true;
  }
  return false;
}

function pairMatches(headers: FieldTable, key: string, expected: FieldValue): boolean {
  if (!Object.hasOwn(headers, key)) return false;
  if (expected === null) return true;
  const actual = headers[key];
  // Most binding values are strings, equal only to the identical string: skip the general comparison's
  // type tests, which were a third of the routing time of a 100-key binding.
  if (typeof expected === 'string') return actual === expected;
  return fieldValuesEqual(actual, expected);
}

function matchMode(args: FieldTable): MatchMode {
  const v = args['x-match'];
  if (v === undefined) return 'all';
  if (v === 'all' || v === 'any' || v === 'all-with-x' || v === 'any-with-x') return v;
  throw new WarrenError(
    'PRECONDITION_FAILED',
    `invalid x-match field value ${JSON.stringify(String(v))}; expected all, any, all-with-x, or any-with-x`,
  );
}
