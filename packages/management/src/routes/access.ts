import type { FastifyInstance } from 'fastify';
import { hashPassword, isHashingAlgorithm, type ClaimedRecord } from '@warren/core';
import { NO_CONTENT, objectBody, putAnswer, resource, type ApiContext, type ApiRequest } from '../api';
import { canSeeVhost, requireTag, requireVhostRead } from '../auth';
import { badRequest, notFound } from '../errors';
import { str, tags } from '../fields';
import { applyListQuery, projectOne, type Item } from '../listing';
import {
  addCounters,
  DEFAULT_HASHING,
  emptyCounters,
  messageStats,
  messageTotals,
  queueCounters,
  userShape,
} from '../shapes';

/** Vhosts, users, permissions and definitions. */
export function accessRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { broker } = ctx;
  const users = broker.users;
  /**
   * A record change through the topology authority (a cluster's replicated store): the reply waits until
   * every node has it; then it is applied here as ever. At once (nothing to wait for) on a single node.
   */
  const claim = async (kind: 'put-record' | 'delete-record', record: ClaimedRecord): Promise<void> => {
    await broker.topologyClaim({ kind, record });
  };

  // ---- vhosts ----------------------------------------------------------------------------------------
  const vhostShape = (name: string): Item => {
    const v = broker.vhosts.get(name);
    const totals = emptyCounters();
    for (const q of v?.queues.values() ?? []) addCounters(totals, queueCounters(q));
    const key = v ?? {};
    return {
      name,
      description: '',
      tags: [],
      tracing: false,
      cluster_state: { [ctx.node]: 'running' },
      ...messageTotals(key, totals, ctx),
      message_stats: messageStats(key, totals, ctx),
    };
  };
  resource(app, '/api/vhosts', {
    GET: (req) =>
      applyListQuery(
        [...broker.vhosts.keys()].filter((n) => canSeeVhost(broker, req.caller, n)).map(vhostShape),
        req.query,
      ),
  });
  resource(app, '/api/vhosts/:vhost', {
    GET: (req) => {
      const name = req.params['vhost'] ?? '';
      requireVhostRead(broker, req.caller, name);
      return projectOne(vhostShape(name), req.query.columns);
    },
    PUT: async (req) => {
      requireTag(req.caller, 'administrator');
      const name = req.params['vhost'] ?? '';
      const existed = broker.vhosts.has(name);
      const body = req.body === undefined ? {} : objectBody(req);
      const metadata = {
        ...(typeof body['description'] === 'string' ? { description: body['description'] } : {}),
        ...(Array.isArray(body['tags']) ? { tags: body['tags'].map(String) } : {}),
        ...(typeof body['default_queue_type'] === 'string'
          ? { defaultQueueType: body['default_queue_type'] }
          : {}),
      };
      await claim('put-record', { kind: 'vhost', name, ...metadata });
      broker.addVhost(name, Object.keys(metadata).length > 0 ? metadata : undefined);
      // As RabbitMQ's management plugin: whoever creates a vhost may use it at once.
      if (!existed) {
        const all = { configure: '.*', write: '.*', read: '.*' };
        await claim('put-record', { kind: 'permission', user: req.caller.user.name, vhost: name, ...all });
        broker.users.setPermissions(req.caller.user.name, name, all);
      }
      return putAnswer(!existed);
    },
    DELETE: async (req) => {
      requireTag(req.caller, 'administrator');
      const name = req.params['vhost'] ?? '';
      if (!broker.vhosts.has(name)) throw notFound();
      await claim('delete-record', { kind: 'vhost', name });
      if (!broker.deleteVhost(name)) throw notFound();
      return NO_CONTENT;
    },
  });
  resource(app, '/api/vhosts/:vhost/permissions', {
    GET: (req) => {
      requireTag(req.caller, 'administrator');
      requireVhostRead(broker, req.caller, req.params['vhost'] ?? '');
      return applyListQuery(
        permissionItems().filter((p) => p['vhost'] === req.params['vhost']),
        req.query,
        ['user'],
      );
    },
  });

  // ---- users -----------------------------------------------------------------------------------------
  const adminOnly = (req: ApiRequest): void => requireTag(req.caller, 'administrator');
  resource(app, '/api/users', {
    GET: (req) => {
      adminOnly(req);
      return applyListQuery(users.list().map(userShape), req.query);
    },
  });
  resource(app, '/api/users/without-permissions', {
    GET: (req) => {
      adminOnly(req);
      const withSome = new Set(users.listPermissions().map((p) => p.user));
      return applyListQuery(
        users
          .list()
          .filter((u) => !withSome.has(u.name))
          .map(userShape),
        req.query,
      );
    },
  });
  resource(app, '/api/users/bulk-delete', {
    POST: (req) => {
      adminOnly(req);
      const names = objectBody(req)['users'];
      if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
        throw badRequest('users must be a list of user names');
      }
      for (const name of names) broker.deleteUser(name);
      return NO_CONTENT;
    },
  });
  resource(app, '/api/users/:user', {
    GET: (req) => {
      adminOnly(req);
      const u = users.get(req.params['user'] ?? '');
      if (u === undefined) throw notFound();
      return projectOne(userShape(u), req.query.columns);
    },
    PUT: async (req) => {
      adminOnly(req);
      const body = objectBody(req);
      const name = req.params['user'] ?? '';
      const existing = users.get(name);
      const newTags = tags(body, 'tags');
      if (broker.topologyAuthority !== undefined) {
        // The cluster stores the user whole, hash included, so every node checks the same password hash.
        let passwordHash: string;
        let algorithm: string = DEFAULT_HASHING;
        if (typeof body['password'] === 'string') passwordHash = hashPassword(body['password']);
        else if (typeof body['password_hash'] === 'string') {
          algorithm = str(body, 'hashing_algorithm', DEFAULT_HASHING);
          if (!isHashingAlgorithm(algorithm)) throw badRequest(`Unknown hashing algorithm: ${algorithm}`);
          passwordHash = body['password_hash'];
        } else if (existing !== undefined) {
          passwordHash = existing.passwordHash;
          algorithm = existing.hashingAlgorithm;
        } else throw badRequest('Missing field: password or password_hash');
        if (!isHashingAlgorithm(algorithm)) throw badRequest(`Unknown hashing algorithm: ${algorithm}`);
        await claim('put-record', {
          kind: 'user',
          name,
          passwordHash,
          hashingAlgorithm: algorithm,
          tags: newTags,
        });
        users.addHashed(name, passwordHash, newTags, algorithm);
        return putAnswer(existing === undefined);
      }
      if (typeof body['password'] === 'string') {
        if (existing === undefined) users.add(name, body['password'], newTags);
        else {
          users.changePassword(name, body['password']);
          users.setTags(name, newTags);
        }
      } else if (typeof body['password_hash'] === 'string') {
        const algorithm = str(body, 'hashing_algorithm', DEFAULT_HASHING);
        if (!isHashingAlgorithm(algorithm)) throw badRequest(`Unknown hashing algorithm: ${algorithm}`);
        // An empty hash is RabbitMQ's "no password": only certificate (EXTERNAL) logins can use the user.
        users.addHashed(name, body['password_hash'], newTags, algorithm);
      } else if (existing !== undefined) {
        users.setTags(name, newTags);
      } else {
        throw badRequest('Missing field: password or password_hash');
      }
      return putAnswer(existing === undefined);
    },
    DELETE: async (req) => {
      adminOnly(req);
      const name = req.params['user'] ?? '';
      const existing = users.get(name);
      if (existing === undefined) throw notFound();
      await claim('delete-record', { kind: 'user', name, passwordHash: '', tags: [] });
      if (!broker.deleteUser(name)) throw notFound();
      return NO_CONTENT;
    },
  });
  resource(app, '/api/users/:user/permissions', {
    GET: (req) => {
      adminOnly(req);
      if (users.get(req.params['user'] ?? '') === undefined) throw notFound();
      return applyListQuery(
        permissionItems().filter((p) => p['user'] === req.params['user']),
        req.query,
        ['vhost'],
      );
    },
  });
  resource(app, '/api/users/:user/topic-permissions', {
    GET: (req) => {
      adminOnly(req);
      if (users.get(req.params['user'] ?? '') === undefined) throw notFound();
      return topicPermissionItems().filter((p) => p['user'] === req.params['user']);
    },
  });

  // ---- permissions -----------------------------------------------------------------------------------
  const permissionItems = (): Item[] =>
    users.listPermissions().map(({ user, vhost, permission }) => ({ user, vhost, ...permission }));
  const topicPermissionItems = (): Item[] => users.listTopicPermissions().map((p) => ({ ...p }));
  /** The vhost and user of a permission path, both existing (404 otherwise). */
  const subject = (req: ApiRequest): { vhost: string; user: string } => {
    adminOnly(req);
    const vhost = req.params['vhost'] ?? '';
    const user = req.params['user'] ?? '';
    if (!broker.vhosts.has(vhost) || users.get(user) === undefined) throw notFound();
    return { vhost, user };
  };
  resource(app, '/api/permissions', {
    GET: (req) => {
      adminOnly(req);
      return applyListQuery(permissionItems(), req.query, ['vhost', 'user']);
    },
  });
  resource(app, '/api/permissions/:vhost/:user', {
    GET: (req) => {
      const { vhost, user } = subject(req);
      const p = users.getPermissions(user, vhost);
      if (p === undefined) throw notFound();
      return { user, vhost, ...p };
    },
    PUT: async (req) => {
      const { vhost, user } = subject(req);
      const body = objectBody(req);
      const existed = users.getPermissions(user, vhost) !== undefined;
      const permission = {
        configure: str(body, 'configure'),
        write: str(body, 'write'),
        read: str(body, 'read'),
      };
      users.checkPermissions(user, permission); // a bad pattern is refused before anything is claimed
      await claim('put-record', { kind: 'permission', user, vhost, ...permission });
      users.setPermissions(user, vhost, permission);
      return putAnswer(!existed);
    },
    DELETE: async (req) => {
      const { vhost, user } = subject(req);
      const p = users.getPermissions(user, vhost);
      if (p === undefined) throw notFound();
      await claim('delete-record', { kind: 'permission', user, vhost, ...p });
      users.clearPermissions(user, vhost);
      return NO_CONTENT;
    },
  });
  resource(app, '/api/topic-permissions', {
    GET: (req) => {
      adminOnly(req);
      return applyListQuery(topicPermissionItems(), req.query, ['vhost', 'user']);
    },
  });
  resource(app, '/api/topic-permissions/:vhost/:user', {
    GET: (req) => {
      const { vhost, user } = subject(req);
      const found = topicPermissionItems().filter((p) => p['vhost'] === vhost && p['user'] === user);
      if (found.length === 0) throw notFound();
      return found;
    },
    PUT: async (req) => {
      const { vhost, user } = subject(req);
      const body = objectBody(req);
      const permission = {
        exchange: str(body, 'exchange'),
        write: str(body, 'write'),
        read: str(body, 'read'),
      };
      users.checkTopicPermissions(user, vhost, permission);
      await claim('put-record', { kind: 'topic-permission', user, vhost, ...permission });
      users.setTopicPermissions(user, vhost, permission);
      return putAnswer(true);
    },
    DELETE: async (req) => {
      const { vhost, user } = subject(req);
      const exchange = req.query['exchange'];
      for (const t of users.listTopicPermissions()) {
        if (t.user !== user || t.vhost !== vhost || (exchange !== undefined && t.exchange !== exchange))
          continue;
        await claim('delete-record', { kind: 'topic-permission', ...t });
      }
      users.clearTopicPermissions(user, vhost, exchange);
      return NO_CONTENT;
    },
  });

  // ---- definitions -----------------------------------------------------------------------------------
  const exportDefs = (req: ApiRequest) => {
    adminOnly(req);
    const vhost = req.params['vhost'];
    if (vhost !== undefined && !broker.vhosts.has(vhost)) throw notFound();
    return broker.exportDefinitions(vhost);
  };
  const importDefs = async (req: ApiRequest) => {
    adminOnly(req);
    const vhost = req.params['vhost'];
    if (vhost !== undefined && !broker.vhosts.has(vhost)) throw notFound();
    try {
      // Through the topology authority in a cluster: validated whole, claimed in order, then applied here.
      await broker.claimImportDefinitions(objectBody(req), vhost);
    } catch (err) {
      // A file that does not validate changes nothing; the client hears what is wrong with it.
      throw err instanceof Error && !(err instanceof TypeError) ? badRequest(err.message) : err;
    }
    return NO_CONTENT;
  };
  resource(app, '/api/definitions', { GET: exportDefs, POST: importDefs });
  resource(app, '/api/definitions/:vhost', { GET: exportDefs, POST: importDefs });
}
