import { WarrenError } from '../errors';
import { fieldValuesEqual, type FieldTable, type FieldValue } from '../field-table';
import type { Message } from '../message';
import { Exchange, removeOne, type Binding, type Destination } from './exchange';

type MatchMode = 'all' | 'any' | 'all-with-x' | 'any-with-x';

interface HeadersBinding {
  readonly binding: Binding;
  readonly destination: Destination;
  readonly all: boolean;
  /** The binding's arguments that take part in matching: x-match always excluded, x-* unless "-with-x". */
  readonly pairs: readonly (readonly [string, FieldValue])[];
}

/**
 * Routes on message headers (AMQP 0-9-1 section 3.1.3.4 and RabbitMQ's extensions): a binding matches when
 * all (x-match=all, the default) or any (x-match=any) of its arguments equal the message's headers. An
 * argument whose value is void matches any value of a present header. Keys starting with "x-" are ignored
 * unless x-match is all-with-x / any-with-x.
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
    this.matchers.push({ binding: b, destination: b.destination, all: mode.startsWith('all'), pairs });
  }

  protected onUnbind(b: Binding): void {
    const found = this.matchers.find((m) => m.binding === b);
    if (found !== undefined) removeOne(this.matchers, found);
  }
}

function matches(m: HeadersBinding, headers: FieldTable): boolean {
  if (m.all) {
    for (const [k, v] of m.pairs) if (!pairMatches(headers, k, v)) return false;
    return true;
  }
  for (const [k, v] of m.pairs) if (pairMatches(headers, k, v)) return true;
  return false;
}

function pairMatches(headers: FieldTable, key: string, expected: FieldValue): boolean {
  if (!Object.hasOwn(headers, key)) return false;
  return expected === null || fieldValuesEqual(headers[key], expected);
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
