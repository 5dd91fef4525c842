import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AccessRefused, WarrenError, type RefusalReason } from './errors';

export interface Permission {
  configure: string;
  write: string;
  read: string;
}

export type PermissionKind = keyof Permission;

export interface User {
  readonly name: string;
  /** base64(salt(4) ++ sha256(salt ++ utf8(password))): RabbitMQ's rabbit_password_hashing_sha256 layout. */
  passwordHash: string;
  tags: string[];
}

interface CompiledPermission extends Permission {
  readonly test: Record<PermissionKind, (name: string) => boolean>;
}

export function hashPassword(password: string, salt: Buffer = randomBytes(4)): string {
  const digest = createHash('sha256').update(salt).update(password, 'utf8').digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

export function checkPassword(password: string, passwordHash: string): boolean {
  const stored = Buffer.from(passwordHash, 'base64');
  if (stored.length !== 36) return false;
  const candidate = Buffer.from(hashPassword(password, stored.subarray(0, 4)), 'base64');
  return timingSafeEqual(candidate, stored);
}

/**
 * Users, their passwords and their per-vhost permissions, in RabbitMQ's model: three regular expressions per
 * user and vhost (configure, write, read), matched unanchored against resource names; the empty string grants
 * nothing. Some users (guest by default) may log in only over loopback.
 */
export class UserRegistry {
  private readonly users = new Map<string, User>();
  private readonly permissions = new Map<string, CompiledPermission>();
  /** Incremented on every permission change, so callers may cache a check until it moves. */
  version = 0;
  /** Called after every change, so the broker can persist it. */
  onChange: ((user: string) => void) | undefined = undefined;

  constructor(readonly loopbackUsers: readonly string[] = ['guest']) {}

  add(name: string, password: string, tags: string[] = []): User {
    return this.addHashed(name, hashPassword(password), tags);
  }

  addHashed(name: string, passwordHash: string, tags: string[] = []): User {
    const user: User = { name, passwordHash, tags };
    this.users.set(name, user);
    this.onChange?.(name);
    return user;
  }

  get(name: string): User | undefined {
    return this.users.get(name);
  }

  list(): User[] {
    return [...this.users.values()];
  }

  delete(name: string): boolean {
    if (!this.users.delete(name)) return false;
    for (const key of [...this.permissions.keys()])
      if (key.startsWith(`${name}\u0000`)) this.permissions.delete(key);
    this.version++;
    this.onChange?.(name);
    return true;
  }

  setPermissions(user: string, vhost: string, permission: Permission): void {
    this.permissions.set(`${user}\u0000${vhost}`, compile(permission));
    this.version++;
    this.onChange?.(user);
  }

  getPermissions(user: string, vhost: string): Permission | undefined {
    const p = this.permissions.get(`${user}\u0000${vhost}`);
    return p === undefined ? undefined : { configure: p.configure, write: p.write, read: p.read };
  }

  listPermissions(): { user: string; vhost: string; permission: Permission }[] {
    return [...this.permissions.entries()].map(([key, p]) => {
      const [user, vhost] = key.split('\u0000') as [string, string];
      return { user, vhost, permission: { configure: p.configure, write: p.write, read: p.read } };
    });
  }

  /**
   * Checks a login. Throws AccessRefused (ACCESS_REFUSED, connection scope) on a wrong user or password, or
   * when a loopback-only user connects from elsewhere. An unknown user and a bad password get the same message,
   * RabbitMQ's; only the reason, which the protocols log, tells them apart.
   */
  authenticate(name: string, password: string, fromLoopback: boolean): User {
    const user = this.users.get(name);
    if (user === undefined || !checkPassword(password, user.passwordHash)) {
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
    return this.permissions.has(`${user}\u0000${vhost}`);
  }

  check(
    user: string,
    vhost: string,
    kind: PermissionKind,
    resourceKind: 'queue' | 'exchange',
    name: string,
  ): void {
    const p = this.permissions.get(`${user}\u0000${vhost}`);
    // RabbitMQ checks the default exchange under the name amq.default.
    const resource = resourceKind === 'exchange' && name === '' ? 'amq.default' : name;
    if (p === undefined || !p.test[kind](resource)) {
      throw new WarrenError(
        'ACCESS_REFUSED',
        `access to ${resourceKind} '${resource}' in vhost '${vhost}' refused for user '${user}'`,
      );
    }
  }
}

function compile(p: Permission): CompiledPermission {
  const matcher = (re: string): ((name: string) => boolean) => {
    if (re === '') return () => false;
    let regex: RegExp;
    try {
      regex = new RegExp(re, 'u');
    } catch {
      throw new WarrenError('PRECONDITION_FAILED', `invalid permission regular expression '${re}'`);
    }
    return (name) => regex.test(name);
  };
  return { ...p, test: { configure: matcher(p.configure), write: matcher(p.write), read: matcher(p.read) } };
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
