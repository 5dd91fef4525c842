import type { FieldTable, FieldValue } from '../field-table';
import type { Message } from '../message';
import type { Queue } from '../queue';

/** Where a binding leads: a queue, or another exchange (RabbitMQ's exchange-to-exchange bindings). */
export type Destination = Queue | Exchange;

export interface Binding {
  readonly source: Exchange;
  readonly destination: Destination;
  readonly routingKey: string;
  readonly arguments: FieldTable;
  /** Identity: two bindings are the same when source, destination, key and arguments all are. */
  readonly key: string;
}

export interface ExchangeOptions {
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

export const EXCHANGE_TYPES = ['direct', 'fanout', 'topic', 'headers'] as const;
export type ExchangeType = (typeof EXCHANGE_TYPES)[number];

/**
 * An exchange routes; it never holds messages. Each type keeps its bindings in the structure that suits its
 * matching (a Map for direct, a trie for topic, ...), and `route` appends every destination that matches.
 * Duplicates are allowed in `out`: the vhost's walk de-duplicates once for the whole exchange graph.
 */
export abstract class Exchange {
  readonly kind = 'exchange';
  abstract readonly type: ExchangeType;
  private readonly byKey = new Map<string, Binding>();
  /** Bindings in which this exchange is the destination, so deleting it can remove them. */
  readonly inbound = new Set<Binding>();
  deleted = false;
  /** Totals for the management API: messages published to it, and those of them it routed to a queue. */
  readonly stats = { publishIn: 0, publishOut: 0 };
  /** The vhost's routing-walk mark (see Vhost.route); not exchange state. */
  routeEpoch = 0;

  constructor(
    readonly vhost: string,
    readonly name: string,
    readonly options: ExchangeOptions,
  ) {}

  get durable(): boolean {
    return this.options.durable;
  }

  get alternateExchange(): string | undefined {
    const ae = this.options.arguments['alternate-exchange'];
    return typeof ae === 'string' ? ae : undefined;
  }

  get bindings(): IterableIterator<Binding> {
    return this.byKey.values();
  }

  get bindingCount(): number {
    return this.byKey.size;
  }

  /** Throws a WarrenError when the arguments make no sense for this type (headers' x-match). */
  validateBinding(_args: FieldTable): void {}

  addBinding(binding: Binding): boolean {
    if (this.byKey.has(binding.key)) return false;
    this.byKey.set(binding.key, binding);
    this.onBind(binding);
    return true;
  }

  removeBinding(key: string): Binding | undefined {
    const binding = this.byKey.get(key);
    if (binding === undefined) return undefined;
    this.byKey.delete(key);
    this.onUnbind(binding);
    return binding;
  }

  findBinding(key: string): Binding | undefined {
    return this.byKey.get(key);
  }

  abstract route(msg: Message, out: Destination[]): void;
  protected abstract onBind(binding: Binding): void;
  protected abstract onUnbind(binding: Binding): void;
}

export function bindingKey(destination: Destination, routingKey: string, args: FieldTable): string {
  return `${destination.kind}\u0000${destination.name}\u0000${routingKey}\u0000${stableStringify(args)}`;
}

/** A canonical text for a field table: keys sorted, so equal tables give equal strings. */
export function stableStringify(table: FieldTable): string {
  const keys = Object.keys(table);
  if (keys.length === 0) return '';
  keys.sort();
  let s = '';
  for (const k of keys) s += `${k}=${valueText(table[k])};`;
  return s;
}

function valueText(v: FieldValue | undefined): string {
  if (v === null || v === undefined) return 'V';
  if (Buffer.isBuffer(v)) return `x${v.toString('hex')}`;
  if (v instanceof Date) return `T${v.getTime()}`;
  if (Array.isArray(v)) return `A[${v.map(valueText).join(',')}]`;
  if (typeof v === 'object' && !('places' in v)) return `F{${stableStringify(v as FieldTable)}}`;
  return `${typeof v}:${String(v)}`;
}

/** Removes one destination occurrence from a list without reallocating. */
export function removeOne<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
