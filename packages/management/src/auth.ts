import { isLoopbackAddress, isWarrenError, type Broker, type User } from '@warren/core';
import { forbidden, notAuthorised, notFound } from './errors';

/**
 * RabbitMQ's management tags, weakest first: `management` sees and manages the objects of its own vhosts,
 * `policymaker` adds policies, `monitoring` reads everything (all vhosts, connections, nodes),
 * `administrator` may do anything.
 */
const TAG_RANK = { management: 1, policymaker: 2, monitoring: 3, administrator: 4 } as const;
export type Tag = keyof typeof TAG_RANK;

/** The user a request authenticated as, with its strongest management tag. */
export interface Caller {
  readonly user: User;
  readonly rank: number;
}

/** A Basic Authorization header's user and password, or undefined when absent or malformed. */
function basicCredentials(header: string | undefined): { name: string; password: string } | undefined {
  const match = /^Basic\s+(\S+)\s*$/i.exec(header ?? '');
  if (match === null) return undefined;
  const text = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { name: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Checks the request's Basic credentials against the broker's users (loopback_users applies, as to AMQP). */
export function authenticate(
  broker: Broker,
  header: string | undefined,
  remoteAddress: string | undefined,
): Caller {
  const credentials = basicCredentials(header);
  if (credentials === undefined) throw notAuthorised('Login failed');
  let user: User;
  try {
    user = broker.authenticate(credentials.name, credentials.password, isLoopbackAddress(remoteAddress));
  } catch (err) {
    if (isWarrenError(err)) throw notAuthorised('Login failed');
    throw err;
  }
  const rank = Math.max(0, ...user.tags.map((t) => TAG_RANK[t as Tag] ?? 0));
  if (rank === 0) throw notAuthorised('Not management user');
  return { user, rank };
}

/** 403 unless the caller holds `tag` or a stronger one. */
export function requireTag(caller: Caller, tag: Tag): void {
  if (caller.rank < TAG_RANK[tag]) throw forbidden('Not authorised');
}

/** Whether the caller may read every vhost's objects (monitoring and administrator), not only its own. */
export function seesAll(caller: Caller): boolean {
  return caller.rank >= TAG_RANK.monitoring;
}

/** Whether the caller may see objects in `vhost`: its own vhosts, or all of them for monitoring users. */
export function canSeeVhost(broker: Broker, caller: Caller, vhost: string): boolean {
  return seesAll(caller) || broker.users.canAccessVhost(caller.user.name, vhost);
}

/**
 * For reading a vhost's objects: the vhost must exist (404) and be one the caller may see (401, RabbitMQ's
 * answer for a vhost a user may not use).
 */
export function requireVhostRead(broker: Broker, caller: Caller, vhost: string): void {
  if (!broker.vhosts.has(vhost)) throw notFound();
  if (!canSeeVhost(broker, caller, vhost)) throw notAuthorised('User not authorised to access virtual host');
}

/**
 * For changing a vhost's objects: the caller needs permissions on it whatever its tags (an administrator
 * without any on a vhost cannot declare a queue there either); the resource permissions are checked after.
 */
export function requireVhostAccess(broker: Broker, caller: Caller, vhost: string): void {
  if (!broker.vhosts.has(vhost)) throw notFound();
  if (!broker.users.canAccessVhost(caller.user.name, vhost)) {
    throw notAuthorised('User not authorised to access virtual host');
  }
}
