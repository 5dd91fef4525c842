import type { Broker } from './broker';
import { isWarrenError, WarrenError } from './errors';
import { EXCHANGE_TYPES, type ExchangeOptions } from './exchanges/exchange';
import { Decimal, type FieldTable, type FieldValue } from './field-table';
import type { QueueOptions } from './queue';
import { parseQueueArguments } from './queue-arguments';
import type { VhostMetadata } from './store';
import { claimInOrder, type TopologyChange } from './topology-authority';
import {
  DEFAULT_HASHING_ALGORITHM,
  hashPassword,
  isHashingAlgorithm,
  type HashingAlgorithm,
  type Permission,
  type TopicPermission,
} from './users';
import type { Vhost } from './vhost';

/*
 * RabbitMQ's definitions: the JSON of GET/POST /api/definitions and of `load_definitions`, so a file exported
 * from RabbitMQ loads into Warren and back. Policies, parameters and global parameters are accepted and ignored
 * with a warning (Warren has none yet); user and vhost limits are ignored.
 */

export interface DefinitionsUser {
  name: string;
  password_hash: string;
  hashing_algorithm: HashingAlgorithm;
  tags: string[];
  limits: Record<string, unknown>;
}

export interface DefinitionsVhost {
  name: string;
  /** RabbitMQ 3.11+; 3.10 exports the name alone, as Warren does for a vhost without metadata. */
  description?: string;
  tags?: string[];
  metadata?: { description: string; tags: string[]; default_queue_type?: string };
}

export interface DefinitionsPermission extends Permission {
  user: string;
  vhost: string;
}

export interface DefinitionsTopicPermission extends TopicPermission {
  user: string;
  vhost: string;
}

/** `vhost` is left out of a vhost-scoped export, as RabbitMQ's GET /api/definitions/<vhost> leaves it out. */
export interface DefinitionsQueue {
  name: string;
  vhost?: string;
  durable: boolean;
  auto_delete: boolean;
  arguments: Record<string, unknown>;
}

export interface DefinitionsExchange {
  name: string;
  vhost?: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  internal: boolean;
  arguments: Record<string, unknown>;
}

export interface DefinitionsBinding {
  source: string;
  vhost?: string;
  destination: string;
  destination_type: 'queue' | 'exchange';
  routing_key: string;
  arguments: Record<string, unknown>;
}

/** A whole-broker export has every section; a vhost-scoped one has no users, vhosts or permissions. */
export interface Definitions {
  rabbit_version: string;
  rabbitmq_version: string;
  product_name: string;
  product_version: string;
  users?: DefinitionsUser[];
  vhosts?: DefinitionsVhost[];
  permissions?: DefinitionsPermission[];
  topic_permissions?: DefinitionsTopicPermission[];
  parameters: unknown[];
  global_parameters?: unknown[];
  policies: unknown[];
  queues: DefinitionsQueue[];
  exchanges: DefinitionsExchange[];
  bindings: DefinitionsBinding[];
}

/** The RabbitMQ release whose definitions format Warren writes (and whose files it reads). */
export const DEFINITIONS_FORMAT_VERSION = '3.10.0';

/** A definitions file Warren cannot apply; the message names the bad item. Nothing was changed. */
export class DefinitionsError extends WarrenError {
  constructor(message: string) {
    super('PRECONDITION_FAILED', message);
    this.name = 'DefinitionsError';
  }
}

// ---- export ------------------------------------------------------------------------------------------

export function exportDefinitions(broker: Broker, vhost?: string): Definitions {
  const vhosts = vhost === undefined ? [...broker.vhosts.values()] : [requireVhost(broker, vhost)];
  const scoped = vhost !== undefined;
  const where = (v: Vhost): { vhost?: string } => (scoped ? {} : { vhost: v.name });
  const topology: Pick<Definitions, 'queues' | 'exchanges' | 'bindings'> = {
    queues: vhosts.flatMap((v) =>
      [...v.queues.values()].filter(exportable).map((q) => ({
        name: q.name,
        ...where(v),
        durable: q.options.durable,
        auto_delete: q.options.autoDelete,
        arguments: jsonTable(q.options.arguments),
      })),
    ),
    exchanges: vhosts.flatMap((v) =>
      [...v.exchanges.values()]
        .filter((x) => !builtIn(x.name))
        .map((x) => ({
          name: x.name,
          ...where(v),
          type: x.type,
          durable: x.options.durable,
          auto_delete: x.options.autoDelete,
          internal: x.options.internal,
          arguments: jsonTable(x.options.arguments),
        })),
    ),
    bindings: vhosts.flatMap((v) =>
      [...v.exchanges.values()].flatMap((x) =>
        [...x.bindings]
          .filter((b) => b.destination.kind === 'exchange' || exportable(b.destination))
          .map((b) => ({
            source: x.name,
            ...where(v),
            destination: b.destination.name,
            destination_type: b.destination.kind,
            routing_key: b.routingKey,
            arguments: jsonTable(b.arguments),
          })),
      ),
    ),
  };
  const header = {
    rabbit_version: DEFINITIONS_FORMAT_VERSION,
    rabbitmq_version: DEFINITIONS_FORMAT_VERSION,
    product_name: 'Warren',
    product_version: broker.productVersion,
  };
  if (scoped) return { ...header, parameters: [], policies: [], ...topology };
  const users = broker.users;
  return {
    ...header,
    users: users.list().map((u) => ({
      name: u.name,
      password_hash: u.passwordHash,
      hashing_algorithm: u.hashingAlgorithm,
      tags: [...u.tags],
      limits: {},
    })),
    vhosts: vhosts.map(exportVhost),
    permissions: users
      .listPermissions()
      .map(({ user, vhost: v, permission }) => ({ user, vhost: v, ...permission })),
    topic_permissions: users.listTopicPermissions(),
    parameters: [],
    global_parameters: [],
    policies: [],
    ...topology,
  };
}

/** Exclusive, server-named and the broker's own amq.* queues belong to a connection, not to the topology. */
function exportable(q: { name: string; owner: unknown }): boolean {
  return q.owner === undefined && !q.name.startsWith('amq.');
}

/** The default exchange and the amq.* ones exist in every vhost; RabbitMQ leaves them out of exports. */
function builtIn(exchange: string): boolean {
  return exchange === '' || exchange.startsWith('amq.');
}

function exportVhost(v: Vhost): DefinitionsVhost {
  const m = v.metadata;
  if (m.description === '' && m.tags.length === 0 && m.defaultQueueType === undefined)
    return { name: v.name };
  const metadata = {
    description: m.description,
    tags: [...m.tags],
    ...(m.defaultQueueType === undefined ? {} : { default_queue_type: m.defaultQueueType }),
  };
  return { name: v.name, description: m.description, tags: [...m.tags], metadata };
}

/** Field values JSON cannot hold as they are, in the form RabbitMQ's export gives them. */
function jsonTable(table: FieldTable): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(table)) out[k] = jsonValue(v);
  return out;
}

function jsonValue(v: FieldValue): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  if (v instanceof Decimal) return v.toNumber();
  if (Array.isArray(v)) return v.map(jsonValue);
  if (typeof v === 'object' && v !== null) return jsonTable(v);
  return v;
}

// ---- import ------------------------------------------------------------------------------------------

/** A definitions file checked and normalised: applying it can no longer fail on its content. */
interface Plan {
  vhosts: { name: string; metadata: Partial<VhostMetadata> | undefined }[];
  users: { name: string; passwordHash: string; algorithm: HashingAlgorithm; tags: string[] }[];
  permissions: DefinitionsPermission[];
  topicPermissions: DefinitionsTopicPermission[];
  exchanges: { vhost: string; name: string; type: string; options: ExchangeOptions }[];
  queues: { vhost: string; name: string; options: QueueOptions }[];
  bindings: {
    vhost: string;
    source: string;
    destination: string;
    kind: 'queue' | 'exchange';
    key: string;
    args: FieldTable;
  }[];
}

export function importDefinitions(broker: Broker, defs: unknown, vhost?: string): void {
  if (vhost !== undefined && broker.vhosts.get(vhost) === undefined) {
    throw new DefinitionsError(`vhost '${vhost}' does not exist`);
  }
  const plan = validate(broker, record(defs, 'definitions'), vhost);
  apply(broker, plan);
}

/**
 * importDefinitions through the topology authority: validated whole now (a bad file throws here and changes
 * nothing), then every change claimed in the file's order (vhosts, users, permissions, exchanges, queues,
 * bindings), then applied here. Without an authority it is importDefinitions, synchronous, and returns
 * undefined.
 */
export function claimImportDefinitions(
  broker: Broker,
  defs: unknown,
  vhost?: string,
): Promise<void> | undefined {
  const authority = broker.topologyAuthority;
  if (authority === undefined) {
    importDefinitions(broker, defs, vhost);
    return undefined;
  }
  if (vhost !== undefined && broker.vhosts.get(vhost) === undefined) {
    throw new DefinitionsError(`vhost '${vhost}' does not exist`);
  }
  const plan = validate(broker, record(defs, 'definitions'), vhost);
  return claimInOrder(authority, planChanges(plan)).then(() => apply(broker, plan));
}

function* planChanges(plan: Plan): Generator<TopologyChange> {
  for (const v of plan.vhosts) {
    yield { kind: 'put-record', record: { kind: 'vhost', name: v.name, ...(v.metadata ?? {}) } };
  }
  for (const u of plan.users) {
    const record = {
      kind: 'user' as const,
      name: u.name,
      passwordHash: u.passwordHash,
      hashingAlgorithm: u.algorithm,
      tags: u.tags,
    };
    yield { kind: 'put-record', record };
  }
  for (const p of plan.permissions) yield { kind: 'put-record', record: { kind: 'permission', ...p } };
  for (const t of plan.topicPermissions) {
    yield { kind: 'put-record', record: { kind: 'topic-permission', ...t } };
  }
  for (const x of plan.exchanges) {
    yield {
      kind: 'declare-exchange',
      vhost: x.vhost,
      name: x.name,
      type: x.type,
      ...x.options,
      passive: false,
    };
  }
  for (const q of plan.queues) {
    yield {
      kind: 'declare-queue',
      vhost: q.vhost,
      name: q.name,
      ...q.options,
      passive: false,
      owner: undefined,
    };
  }
  for (const b of plan.bindings) {
    yield {
      kind: 'bind',
      vhost: b.vhost,
      source: b.source,
      destination: b.destination,
      destinationKind: b.kind,
      routingKey: b.key,
      arguments: b.args,
    };
  }
}

function validate(broker: Broker, d: Record<string, unknown>, scope: string | undefined): Plan {
  const plan: Plan = {
    vhosts: [],
    users: [],
    permissions: [],
    topicPermissions: [],
    exchanges: [],
    queues: [],
    bindings: [],
  };
  // A vhost-scoped import (RabbitMQ's POST /api/definitions/<vhost>) takes the topology only.
  if (scope === undefined) {
    each(d, 'vhosts', (o, item) => plan.vhosts.push(readVhost(o, item)));
    each(d, 'users', (o, item) => plan.users.push(readUser(o, item)));
    const userExists = (u: string): boolean =>
      broker.users.get(u) !== undefined || plan.users.some((p) => p.name === u);
    const vhostExists = (v: string): boolean => broker.vhosts.has(v) || plan.vhosts.some((p) => p.name === v);
    const owner = (o: Record<string, unknown>, item: string): { user: string; vhost: string } => {
      const user = str(o, 'user', item);
      const v = str(o, 'vhost', item);
      if (!userExists(user)) fail(item, `no user '${user}' in the file or the broker`);
      if (!vhostExists(v)) fail(item, `no vhost '${v}' in the file or the broker`);
      return { user, vhost: v };
    };
    each(d, 'permissions', (o, item) => {
      const p = { ...owner(o, item), ...patterns(o, item, ['configure', 'write', 'read']) };
      plan.permissions.push(p as DefinitionsPermission);
    });
    each(d, 'topic_permissions', (o, item) => {
      const t = {
        ...owner(o, item),
        exchange: str(o, 'exchange', item),
        ...patterns(o, item, ['write', 'read']),
      };
      plan.topicPermissions.push(t as DefinitionsTopicPermission);
    });
  }
  const vhostOf = (o: Record<string, unknown>, item: string): string => {
    if (scope !== undefined) return scope;
    const v = str(o, 'vhost', item);
    if (!broker.vhosts.has(v) && !plan.vhosts.some((p) => p.name === v))
      fail(item, `no vhost '${v}' in the file or the broker`);
    return v;
  };
  each(d, 'exchanges', (o, item) => {
    const x = readExchange(o, item, vhostOf(o, item));
    // RabbitMQ skips amq.* exchanges on import: they exist in every vhost already.
    if (builtIn(x.name)) {
      broker.logger.warn({ exchange: x.name }, 'definitions: skipped a built-in exchange');
      return;
    }
    const existing = broker.vhosts.get(x.vhost)?.exchanges.get(x.name);
    if (existing !== undefined) {
      attempt(item, () => broker.vhosts.get(x.vhost)?.checkExchangeEquivalent(existing, x.type, x.options));
    }
    plan.exchanges.push(x);
  });
  each(d, 'queues', (o, item) => {
    const q = readQueue(o, item, vhostOf(o, item));
    const v = broker.vhosts.get(q.vhost);
    const existing = v?.queues.get(q.name);
    if (existing !== undefined) {
      if (existing.owner !== undefined) fail(item, 'an exclusive queue of that name exists');
      attempt(item, () => v?.checkQueueEquivalent(existing, q.options));
    }
    plan.queues.push(q);
  });
  each(d, 'bindings', (o, item) => plan.bindings.push(readBinding(broker, plan, o, item, vhostOf(o, item))));
  for (const section of ['policies', 'parameters', 'global_parameters']) {
    const list = d[section];
    if (Array.isArray(list) && list.length > 0) {
      broker.logger.warn({ count: list.length }, `definitions: ${section} ignored (Warren has none yet)`);
    }
  }
  return plan;
}

function apply(broker: Broker, plan: Plan): void {
  for (const v of plan.vhosts) broker.addVhost(v.name, v.metadata);
  const users = broker.users;
  for (const u of plan.users) users.addHashed(u.name, u.passwordHash, u.tags, u.algorithm);
  for (const { user, vhost, ...p } of plan.permissions) users.setPermissions(user, vhost, p);
  for (const { user, vhost, ...t } of plan.topicPermissions) users.setTopicPermissions(user, vhost, t);
  const vhostOf = (name: string): Vhost => broker.vhosts.get(name) as Vhost;
  for (const x of plan.exchanges) vhostOf(x.vhost).declareExchange(x.name, x.type, x.options);
  for (const q of plan.queues) vhostOf(q.vhost).declareQueue(q.name, q.options, undefined);
  for (const b of plan.bindings) {
    const v = vhostOf(b.vhost);
    const destination = b.kind === 'queue' ? v.getQueue(b.destination) : v.getExchange(b.destination);
    v.bind(b.source, destination, b.key, b.args);
  }
}

function readVhost(o: Record<string, unknown>, item: string): Plan['vhosts'][number] {
  const name = str(o, 'name', item);
  // 3.11+ writes metadata both at the top and under `metadata`; older files have neither.
  const meta = o['metadata'] === undefined ? o : record(o['metadata'], `${item}.metadata`);
  const description = meta['description'] ?? o['description'];
  const tags = meta['tags'] ?? o['tags'];
  const queueType = meta['default_queue_type'];
  if (description === undefined && tags === undefined && queueType === undefined)
    return { name, metadata: undefined };
  if (description !== undefined && typeof description !== 'string')
    fail(item, 'description must be a string');
  if (queueType !== undefined && typeof queueType !== 'string')
    fail(item, 'default_queue_type must be a string');
  return {
    name,
    metadata: {
      description: description ?? '',
      tags: tags === undefined ? [] : tagList(tags, item),
      defaultQueueType: queueType,
    },
  };
}

function readUser(o: Record<string, unknown>, item: string): Plan['users'][number] {
  const name = str(o, 'name', item);
  const tags = o['tags'] === undefined ? [] : tagList(o['tags'], item);
  // A hand-written file may give a password in clear; RabbitMQ accepts that too and hashes it.
  if (typeof o['password'] === 'string' && o['password_hash'] === undefined) {
    return { name, passwordHash: hashPassword(o['password']), algorithm: DEFAULT_HASHING_ALGORITHM, tags };
  }
  const hash = str(o, 'password_hash', item);
  if (hash !== '' && !/^[A-Za-z0-9+/]+={0,2}$/.test(hash)) fail(item, 'password_hash is not base64');
  const algorithm = o['hashing_algorithm'] ?? DEFAULT_HASHING_ALGORITHM;
  if (!isHashingAlgorithm(algorithm)) {
    fail(item, `unknown hashing_algorithm '${String(algorithm)}'`);
  }
  return { name, passwordHash: hash, algorithm, tags };
}

function readExchange(o: Record<string, unknown>, item: string, vhost: string): Plan['exchanges'][number] {
  const name = str(o, 'name', item);
  const type = str(o, 'type', item);
  if (!(EXCHANGE_TYPES as readonly string[]).includes(type)) fail(item, `unknown exchange type '${type}'`);
  if (name === '') fail(item, 'the default exchange cannot be declared');
  const options: ExchangeOptions = {
    durable: bool(o, 'durable', item, true),
    autoDelete: bool(o, 'auto_delete', item, false),
    internal: bool(o, 'internal', item, false),
    arguments: table(o, item),
  };
  return { vhost, name, type, options };
}

function readQueue(o: Record<string, unknown>, item: string, vhost: string): Plan['queues'][number] {
  const name = str(o, 'name', item);
  if (name === '' || name.startsWith('amq.')) fail(item, `queue name '${name}' is reserved or empty`);
  const options: QueueOptions = {
    durable: bool(o, 'durable', item, true),
    exclusive: false,
    autoDelete: bool(o, 'auto_delete', item, false),
    arguments: table(o, item),
  };
  attempt(item, () => parseQueueArguments(options.arguments, name, vhost, options));
  return { vhost, name, options };
}

function readBinding(
  broker: Broker,
  plan: Plan,
  o: Record<string, unknown>,
  item: string,
  vhost: string,
): Plan['bindings'][number] {
  const source = str(o, 'source', item);
  const destination = str(o, 'destination', item);
  const kind = o['destination_type'];
  if (kind !== 'queue' && kind !== 'exchange') fail(item, "destination_type must be 'queue' or 'exchange'");
  if (source === '') fail(item, 'the default exchange cannot be bound');
  const v = broker.vhosts.get(vhost);
  const exchangeExists = (name: string): boolean =>
    builtIn(name) ||
    v?.exchanges.has(name) === true ||
    plan.exchanges.some((x) => x.vhost === vhost && x.name === name);
  if (!exchangeExists(source)) fail(item, `no exchange '${source}' in vhost '${vhost}'`);
  const found =
    kind === 'exchange'
      ? exchangeExists(destination)
      : v?.queues.has(destination) === true ||
        plan.queues.some((q) => q.vhost === vhost && q.name === destination);
  if (!found) fail(item, `no ${kind} '${destination}' in vhost '${vhost}'`);
  const routingKey = o['routing_key'] ?? '';
  if (typeof routingKey !== 'string') fail(item, 'routing_key must be a string');
  return { vhost, source, destination, kind, key: routingKey, args: table(o, item) };
}

// ---- small readers -----------------------------------------------------------------------------------

function fail(item: string, why: string): never {
  throw new DefinitionsError(`definitions: ${item}: ${why}`);
}

/** Runs a core check for one item; its WarrenError becomes a DefinitionsError naming the item. */
function attempt(item: string, check: () => unknown): void {
  try {
    check();
  } catch (e) {
    if (isWarrenError(e)) fail(item, e.message);
    throw e;
  }
}

function record(v: unknown, item: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(item, 'expected a JSON object');
  return v as Record<string, unknown>;
}

/** Calls `fn` for every object of a section; `item` names it for errors: "queues[2] 'orders'". */
function each(
  d: Record<string, unknown>,
  section: string,
  fn: (o: Record<string, unknown>, item: string) => void,
): void {
  const list = d[section];
  if (list === undefined) return;
  if (!Array.isArray(list)) fail(section, 'expected an array');
  list.forEach((entry, i) => {
    const o = record(entry, `${section}[${i}]`);
    const label =
      typeof o['name'] === 'string'
        ? ` '${o['name']}'`
        : typeof o['user'] === 'string'
          ? ` '${o['user']}'`
          : '';
    fn(o, `${section}[${i}]${label}`);
  });
}

function str(o: Record<string, unknown>, field: string, item: string): string {
  const v = o[field];
  if (typeof v !== 'string') fail(item, `${field} must be a string`);
  return v;
}

function bool(o: Record<string, unknown>, field: string, item: string, fallback: boolean): boolean {
  const v = o[field] ?? fallback;
  if (typeof v !== 'boolean') fail(item, `${field} must be true or false`);
  return v;
}

/** Arguments as a field table: JSON's values are all field values (numbers, strings, lists, objects). */
function table(o: Record<string, unknown>, item: string): FieldTable {
  const args = o['arguments'] ?? {};
  return record(args, `${item}.arguments`) as FieldTable;
}

/** Tags as RabbitMQ writes them: a list, or (older files, hand-written ones) one comma-separated string. */
function tagList(tags: unknown, item: string): string[] {
  if (typeof tags === 'string')
    return tags
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
  if (Array.isArray(tags) && tags.every((t) => typeof t === 'string')) return [...tags];
  return fail(item, 'tags must be a list of strings or a comma-separated string');
}

function patterns<K extends string>(o: Record<string, unknown>, item: string, kinds: K[]): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const kind of kinds) {
    const re = str(o, kind, item);
    try {
      new RegExp(re, 'u');
    } catch {
      fail(item, `${kind} is not a regular expression: '${re}'`);
    }
    out[kind] = re;
  }
  return out;
}

function requireVhost(broker: Broker, name: string): Vhost {
  const v = broker.vhosts.get(name);
  if (v === undefined) throw new WarrenError('NOT_FOUND', `no vhost '${name}'`);
  return v;
}
