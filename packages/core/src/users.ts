import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { AccessRefused, WarrenError, type RefusalReason } from './errors';
import type { TopologyRecord } from './store';

/**
 * Whether a peer's address is a loopback one (127.0.0.0/8, ::1, or 127.x mapped into IPv6): a user of
 * RabbitMQ's loopback_users (guest by default) may log in only from there. Undefined (an in-memory transport)
 * is not.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (a === '::1') return true;
  return isIP(a) === 4 && a.startsWith('127.');
}

export interface Permission {
  configure: string;
  write: string;
  read: string;
}

export type PermissionKind = keyof Permission;

/** RabbitMQ's topic authorisation for one exchange: patterns the routing or binding key must match. */
export interface TopicPermission {
  exchange: string;
  write: string;
  read: string;
}

/**
 * RabbitMQ's password hashing modules. Warren writes SHA-256 (RabbitMQ's default since 3.6); the others are
 * accepted on import, so users exported from an older or differently configured RabbitMQ can still log in.
 */
export const HASHING_ALGORITHMS = {
  rabbit_password_hashing_sha256: 'sha256',
  rabbit_password_hashing_sha512: 'sha512',
  rabbit_password_hashing_md5: 'md5',
} as const;

export type HashingAlgorithm = keyof typeof HASHING_ALGORITHMS;
export const DEFAULT_HASHING_ALGORITHM: HashingAlgorithm = 'rabbit_password_hashing_sha256';

export function isHashingAlgorithm(name: unknown): name is HashingAlgorithm {
  return typeof name === 'string' && Object.hasOwn(HASHING_ALGORITHMS, name);
}

export interface User {
  readonly name: string;
  /** base64(salt(4) ++ hash(salt ++ utf8(password))), RabbitMQ's layout; '' for a user with no password. */
  passwordHash: string;
  hashingAlgorithm: HashingAlgorithm;
  tags: string[];
}

interface CompiledPermission extends Permission {
  readonly test: Record<PermissionKind, (name: string) => boolean>;
}

interface CompiledTopicPermission extends TopicPermission {
  readonly test: Record<'write' | 'read', (key: string) => boolean>;
}

/** A user's topic permissions on one vhost, by exchange name. */
export type TopicPermissions = ReadonlyMap<string, CompiledTopicPermission>;

/** What the registry asks its owner to store or forget: the broker hands these to its store. */
export type RegistryChange = { op: 'put' | 'delete'; record: TopologyRecord };

export function hashPassword(
  password: string,
  salt: Buffer = randomBytes(4),
  algorithm: HashingAlgorithm = DEFAULT_HASHING_ALGORITHM,
): string {
  const digest = createHash(HASHING_ALGORITHMS[algorithm]).update(salt).update(password, 'utf8').digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

export function checkPassword(
  password: string,
  passwordHash: string,
  algorithm: HashingAlgorithm = DEFAULT_HASHING_ALGORITHM,
): boolean {
  const stored = Buffer.from(passwordHash, 'base64');
  // An empty hash is a user who cannot log in with a password (RabbitMQ's passwordless users).
  if (stored.length <= 4) return false;
  const candidate = Buffer.from(hashPassword(password, stored.subarray(0, 4), algorithm), 'base64');
  return candidate.length === stored.length && timingSafeEqual(candidate, stored);
}

/**
 * Users, their passwords and their per-vhost permissions, in RabbitMQ's model: three regular expressions per
 * user and vhost (configure, write, read), matched unanchored against resource names; the empty string grants
 * nothing. Topic permissions narrow write and read further by routing key on topic exchanges. Some users (guest
 * by default) may log in only over loopback. Every check reads the current tables, so a change applies to open
 * connections at their next operation, as in RabbitMQ.
 */
export class UserRegistry {
  private readonly users = new Map<string, User>();
  private readonly permissions = new Map<string, CompiledPermission>();
  private readonly topicPermissions = new Map<string, Map<string, CompiledTopicPermission>>();
  /** Incremented on every permission change, so callers may cache a check until it moves. */
  version = 0;
  /** Called for every change, so the broker can persist it. */
  onChange: ((change: RegistryChange) => void) | undefined = undefined;

  constructor(readonly loopbackUsers: readonly string[] = ['guest']) {}

  /** Adds a user, or replaces the password and tags of an existing one (its permissions stay). */
  add(name: string, password: string, tags: string[] = []): User {
    return this.addHashed(name, hashPassword(password), tags);
  }

  addHashed(
    name: string,
    passwordHash: string,
    tags: string[] = [],
    hashingAlgorithm: HashingAlgorithm = DEFAULT_HASHING_ALGORITHM,
  ): User {
    const user: User = { name, passwordHash, hashingAlgorithm, tags };
    this.users.set(name, user);
    this.persistUser(user);
    return user;
  }

  changePassword(name: string, password: string): void {
    const user = this.require(name);
    user.passwordHash = hashPassword(password);
    user.hashingAlgorithm = DEFAULT_HASHING_ALGORITHM;
    this.persistUser(user);
  }

  setTags(name: string, tags: string[]): void {
    const user = this.require(name);
    user.tags = [...tags];
    this.persistUser(user);
  }

  get(name: string): User | undefined {
    return this.users.get(name);
  }

  list(): User[] {
    return [...this.users.values()];
  }

  /** Deletes a user with its permissions and topic permissions. The broker closes its connections. */
  delete(name: string): boolean {
    const user = this.users.get(name);
    if (user === undefined) return false;
    for (const p of this.listPermissions()) if (p.user === name) this.clearPermissions(name, p.vhost);
    for (const t of this.listTopicPermissions()) {
      if (t.user === name) this.clearTopicPermissions(name, t.vhost, t.exchange);
    }
    this.users.delete(name);
    this.version++;
    this.onChange?.({ op: 'delete', record: userRecord(user) });
    return true;
  }

  /** setPermissions' checks without the change (an unknown user, a pattern that is no regular expression). */
  checkPermissions(user: string, permission: Permission): void {
    this.require(user);
    compile(permission);
  }

  setPermissions(user: string, vhost: string, permission: Permission): void {
    this.require(user);
    const p = compile(permission);
    this.permissions.set(key(user, vhost), p);
    this.version++;
    this.onChange?.({ op: 'put', record: { kind: 'permission', user, vhost, ...plain(p) } });
  }

  /** Removes a user's permissions on a vhost; false when there were none. */
  clearPermissions(user: string, vhost: string): boolean {
    const p = this.permissions.get(key(user, vhost));
    if (p === undefined) return false;
    this.permissions.delete(key(user, vhost));
    this.version++;
    this.onChange?.({ op: 'delete', record: { kind: 'permission', user, vhost, ...plain(p) } });
    return true;
  }

  getPermissions(user: string, vhost: string): Permission | undefined {
    const p = this.permissions.get(key(user, vhost));
    return p === undefined ? undefined : plain(p);
  }

  listPermissions(): { user: string; vhost: string; permission: Permission }[] {
    return [...this.permissions.entries()].map(([k, p]) => {
      const [user, vhost] = k.split('\u0000') as [string, string];
      return { user, vhost, permission: plain(p) };
    });
  }

  /**
   * Sets a user's topic permission for one exchange of a vhost. `{username}` and `{vhost}` in the patterns
   * stand for the user's name and the vhost, as in RabbitMQ.
   */
  /** setTopicPermissions' checks without the change. */
  checkTopicPermissions(user: string, vhost: string, permission: TopicPermission): void {
    this.require(user);
    compileTopic(permission, { username: user, vhost });
  }

  setTopicPermissions(user: string, vhost: string, permission: TopicPermission): void {
    this.require(user);
    const compiled = compileTopic(permission, { username: user, vhost });
    let byExchange = this.topicPermissions.get(key(user, vhost));
    if (byExchange === undefined) {
      byExchange = new Map();
      this.topicPermissions.set(key(user, vhost), byExchange);
    }
    byExchange.set(permission.exchange, compiled);
    this.version++;
    this.onChange?.({ op: 'put', record: topicRecord(user, vhost, compiled) });
  }

  /** Removes a user's topic permission for `exchange`, or all of them on the vhost; false when none was set. */
  clearTopicPermissions(user: string, vhost: string, exchange?: string): boolean {
    const byExchange = this.topicPermissions.get(key(user, vhost));
    if (byExchange === undefined) return false;
    const doomed = [...byExchange.values()].filter((t) => exchange === undefined || t.exchange === exchange);
    for (const t of doomed) {
      byExchange.delete(t.exchange);
      this.onChange?.({ op: 'delete', record: topicRecord(user, vhost, t) });
    }
    if (byExchange.size === 0) this.topicPermissions.delete(key(user, vhost));
    if (doomed.length > 0) this.version++;
    return doomed.length > 0;
  }

  listTopicPermissions(): ({ user: string; vhost: string } & TopicPermission)[] {
    const out: ({ user: string; vhost: string } & TopicPermission)[] = [];
    for (const [k, byExchange] of this.topicPermissions) {
      const [user, vhost] = k.split('\u0000') as [string, string];
      for (const t of byExchange.values()) out.push({ user, vhost, ...plainTopic(t) });
    }
    return out;
  }

  /**
   * The user's topic permissions on a vhost, for a channel to keep while `version` holds (a publish then
   * costs one Map lookup by exchange name); undefined when it has none, so no key is ever checked.
   */
  topicPermissionsFor(user: string, vhost: string): TopicPermissions | undefined {
    return this.topicPermissions.get(key(user, vhost));
  }

  /**
   * Checks a routing key (write: a publish) or a binding key (read: a bind) against a topic exchange's
   * topic permission. No topic permission for the exchange means no restriction (RabbitMQ's rule).
   */
  checkTopic(
    permissions: TopicPermissions | undefined,
    user: string,
    vhost: string,
    kind: 'write' | 'read',
    exchange: string,
    routingKey: string,
  ): void {
    const t = permissions?.get(exchange);
    if (t === undefined || t.test[kind](routingKey)) return;
    throw new WarrenError(
      'ACCESS_REFUSED',
      `${kind} access to topic '${routingKey}' in exchange '${exchange}' in vhost '${vhost}' refused for user '${user}'`,
    );
  }

  /**
   * Checks a login. Throws AccessRefused (ACCESS_REFUSED, connection scope) on a wrong user or password, or
   * when a loopback-only user connects from elsewhere. An unknown user and a bad password get the same message,
   * RabbitMQ's; only the reason, which the protocols log, tells them apart.
   */
  authenticate(name: string, password: string, fromLoopback: boolean): User {
    const user = this.users.get(name);
    if (user === undefined || !checkPassword(password, user.passwordHash, user.hashingAlgorithm)) {
      throw loginRefused('PLAIN', user === undefined ? 'unknown user' : 'bad password');
    }
    return this.admit(user, fromLoopback);
  }

  /**
   * A login someone else vouched for, with no password to check: a verified TLS client certificate (SASL
   * EXTERNAL, STOMP's ssl_cert_login). The user must exist, and loopback_users still applies.
   */
  authenticateExternal(name: string, fromLoopback: boolean): User {
    const user = this.users.get(name);
    if (user === undefined) throw loginRefused('EXTERNAL', 'unknown user');
    return this.admit(user, fromLoopback);
  }

  private admit(user: User, fromLoopback: boolean): User {
    if (!fromLoopback && this.loopbackUsers.includes(user.name)) {
      throw new AccessRefused(
        'ACCESS_REFUSED',
        `user '${user.name}' can only connect via localhost`,
        'loopback-only user from a remote address',
      );
    }
    return user;
  }

  /** Whether the user may use the vhost at all (has any permission entry there). */
  canAccessVhost(user: string, vhost: string): boolean {
    return this.permissions.has(key(user, vhost));
  }

  check(
    user: string,
    vhost: string,
    kind: PermissionKind,
    resourceKind: 'queue' | 'exchange',
    name: string,
  ): void {
    const p = this.permissions.get(key(user, vhost));
    // RabbitMQ checks the default exchange under the name amq.default.
    const resource = resourceKind === 'exchange' && name === '' ? 'amq.default' : name;
    if (p === undefined || !p.test[kind](resource)) {
      throw new WarrenError(
        'ACCESS_REFUSED',
        `access to ${resourceKind} '${resource}' in vhost '${vhost}' refused for user '${user}'`,
      );
    }
  }

  /** Drops every permission and topic permission on a vhost (the vhost is being deleted). */
  forgetVhost(vhost: string): void {
    for (const p of this.listPermissions()) if (p.vhost === vhost) this.clearPermissions(p.user, vhost);
    for (const t of this.listTopicPermissions()) {
      if (t.vhost === vhost) this.clearTopicPermissions(t.user, vhost, t.exchange);
    }
  }

  private require(name: string): User {
    const user = this.users.get(name);
    if (user === undefined) throw new WarrenError('NOT_FOUND', `no user '${name}'`);
    return user;
  }

  private persistUser(user: User): void {
    this.onChange?.({ op: 'put', record: userRecord(user) });
  }
}

function key(user: string, vhost: string): string {
  return `${user}\u0000${vhost}`;
}

function userRecord(user: User): TopologyRecord {
  return {
    kind: 'user',
    name: user.name,
    passwordHash: user.passwordHash,
    hashingAlgorithm: user.hashingAlgorithm,
    tags: user.tags,
  };
}

function topicRecord(user: string, vhost: string, t: TopicPermission): TopologyRecord {
  return { kind: 'topic-permission', user, vhost, ...plainTopic(t) };
}

function plain(p: Permission): Permission {
  return { configure: p.configure, write: p.write, read: p.read };
}

function plainTopic(t: TopicPermission): TopicPermission {
  return { exchange: t.exchange, write: t.write, read: t.read };
}

/** A permission pattern as a test; '' grants nothing. A pattern that is no regular expression is refused. */
function matcher(re: string): (name: string) => boolean {
  if (re === '') return () => false;
  let regex: RegExp;
  try {
    regex = new RegExp(re, 'u');
  } catch {
    throw new WarrenError('PRECONDITION_FAILED', `invalid permission regular expression '${re}'`);
  }
  return (name) => regex.test(name);
}

function compile(p: Permission): CompiledPermission {
  return {
    ...plain(p),
    test: { configure: matcher(p.configure), write: matcher(p.write), read: matcher(p.read) },
  };
}

/** Compiled once per user and vhost: RabbitMQ expands the variables with values fixed by both. */
function compileTopic(
  t: TopicPermission,
  vars: { username: string; vhost: string },
): CompiledTopicPermission {
  const expand = (re: string): string =>
    re.replaceAll('{username}', vars.username).replaceAll('{vhost}', vars.vhost);
  return { ...plainTopic(t), test: { write: matcher(expand(t.write)), read: matcher(expand(t.read)) } };
}

/**
 * The ACCESS_REFUSED of a failed login, worded as RabbitMQ words it whatever went wrong (a client cannot
 * probe which user names exist); the reason goes to the log only.
 */
export function loginRefused(mechanism: string, reason: RefusalReason): AccessRefused {
  return new AccessRefused(
    'ACCESS_REFUSED',
    `Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`,
    reason,
  );
}
