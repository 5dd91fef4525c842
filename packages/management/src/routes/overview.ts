import { readdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_VHOST, Message } from '@warren/core';
import { Answer, resource, type ApiContext, type ApiRequest } from '../api';
import { canSeeVhost, requireTag, requireVhostAccess } from '../auth';
import { notFound } from '../errors';
import { answerWhileOpen, askEach, isItem } from '../cluster';
import { projectOne, type Item } from '../listing';
import { addCounters, emptyCounters, messageStats, messageTotals, queueCounters } from '../shapes';
import { withChannel } from '../session';

/** The RabbitMQ release whose management API this one answers like: what clients check before a call. */
export const RABBITMQ_COMPATIBILITY = '3.13.0';

const EXCHANGE_TYPES = ['direct', 'fanout', 'headers', 'topic'].map((name) => ({
  name,
  description: `AMQP ${name} exchange, as per the AMQP specification`,
  enabled: true,
}));

/** Overview, nodes, identity, health checks and the aliveness test. */
export function overviewRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { broker } = ctx;

  resource(app, '/api/overview', {
    GET: async (req) => projectOne(await overview(ctx, req), req.query.columns),
  });
  answerWhileOpen(app, ctx.cluster, 'overview', () => overviewPart(ctx));
  answerWhileOpen(app, ctx.cluster, 'node', () => node(ctx));
  resource(app, '/api/cluster-name', {
    GET: () => ({ name: ctx.clusterName }),
  });
  resource(app, '/api/extensions', { GET: () => [] });
  resource(app, '/api/whoami', {
    GET: ({ caller }) => ({ name: caller.user.name, tags: caller.user.tags }),
  });
  resource(app, '/api/nodes', {
    GET: async (req) => {
      requireTag(req.caller, 'monitoring');
      return (await nodes(ctx)).map((n) => projectOne(n, req.query.columns));
    },
  });
  resource(app, '/api/nodes/:name', {
    GET: async (req) => {
      requireTag(req.caller, 'monitoring');
      const found = (await nodes(ctx)).find((n) => n['name'] === req.params['name']);
      if (found === undefined) throw notFound();
      return projectOne(found, req.query.columns);
    },
  });

  resource(app, '/api/health/checks/alarms', { GET: () => health(alarmFailure(ctx)) });
  resource(app, '/api/health/checks/local-alarms', { GET: () => health(alarmFailure(ctx)) });
  resource(app, '/api/health/checks/virtual-hosts', {
    // Warren's vhosts cannot be down separately from the broker: every one that exists runs.
    GET: () => health(undefined),
  });
  resource(app, '/api/health/checks/ready-to-serve-clients', {
    GET: () => health(ctx.serving() ? undefined : 'the broker is shutting down'),
  });
  resource(app, '/api/health/checks/port-listener/:port', {
    GET: ({ params }) => {
      const port = Number(params['port']);
      const ports = ctx.listeners().map((l) => l.port);
      if (ports.includes(port)) return health(undefined, { port });
      return health(`No active listener on port ${params['port']}`, { port, ports });
    },
  });
  resource(app, '/api/health/checks/protocol-listener/:protocol', {
    GET: ({ params }) => {
      const protocol = params['protocol'] ?? '';
      const protocols = [...new Set(ctx.listeners().map((l) => l.protocol))];
      if (protocols.includes(protocol)) return health(undefined, { protocol });
      return health(`No active listener for protocol ${protocol}`, { protocol, protocols });
    },
  });

  resource(app, '/api/aliveness-test/:vhost', {
    GET: async ({ caller, params }) => {
      const vhost = params['vhost'] ?? DEFAULT_VHOST;
      requireVhostAccess(broker, caller, vhost);
      // RabbitMQ's test: declare aliveness-test, publish "test_message" to it and get it back.
      const ok = await withChannel(broker, caller.user, vhost, async (ch) => {
        ch.queueDeclare('aliveness-test', {
          durable: false,
          exclusive: false,
          autoDelete: false,
          arguments: {},
        });
        ch.publish('', Message.fromProperties('', 'aliveness-test', {}, Buffer.from('test_message')));
        const got = await ch.getOne('aliveness-test');
        if (got !== undefined) ch.channel.ack(got.tag);
        return got?.msg.body.toString() === 'test_message';
      });
      return ok ? { status: 'ok' } : new Answer(503, { status: 'failed', reason: 'aliveness test failed' });
    },
  });
  // RabbitMQ's own health endpoint of old, still used by monitoring scripts.
  resource(app, '/api/healthchecks/node', { GET: () => health(alarmFailure(ctx)) });
}

function health(failure: string | undefined, extra: Record<string, unknown> = {}): unknown {
  if (failure === undefined) return { status: 'ok', ...extra };
  return new Answer(503, { status: 'failed', reason: failure, ...extra });
}

function alarmFailure({ broker }: ApiContext): string | undefined {
  return broker.alarms.blocked ? `resource alarm in effect: ${broker.alarms.reason}` : undefined;
}

/**
 * Every node of the cluster: this one, each running one as it describes itself, and the ones it has heard of
 * that no longer answer, as RabbitMQ lists a stopped member (`running: false`). Only this one outside a cluster.
 */
async function nodes(ctx: ApiContext): Promise<Item[]> {
  const here = await node(ctx);
  if (ctx.cluster === undefined) return [here];
  const answered = new Map((await askEach(ctx.cluster, 'node')).map((a) => [a.node, a.answer]));
  return ctx.cluster
    .nodes()
    .map(({ name }) =>
      name === ctx.node ? here : (answered.get(name) ?? { name, type: 'disc', running: false }),
    );
}

/** This node's part of a cluster's /api/overview: its listeners, and its connections and channels by vhost. */
function overviewPart(ctx: ApiContext): Item {
  const vhosts: Record<string, [number, number]> = {};
  for (const c of ctx.broker.connections.values()) {
    const counts = (vhosts[c.vhost.name] ??= [0, 0]);
    counts[0]++;
    counts[1] += c.channels.size;
  }
  return { listeners: ctx.listeners().map((l) => ({ node: ctx.node, ...l })), vhosts };
}

async function overview(ctx: ApiContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const { broker } = ctx;
  let queues = 0;
  let exchanges = 0;
  let consumers = 0;
  const totals = emptyCounters();
  for (const v of broker.vhosts.values()) {
    if (!canSeeVhost(broker, req.caller, v.name)) continue;
    exchanges += v.exchanges.size;
    for (const q of v.queues.values()) {
      queues++;
      consumers += q.consumerCount;
      addCounters(totals, queueCounters(q));
    }
  }
  let connections = 0;
  let channels = 0;
  const listeners = [];
  for (const part of [overviewPart(ctx), ...(await askEach(ctx.cluster, 'overview')).map((a) => a.answer)]) {
    if (Array.isArray(part['listeners'])) listeners.push(...(part['listeners'] as unknown[]));
    if (!isItem(part['vhosts'])) continue;
    for (const [vhost, counts] of Object.entries(part['vhosts'])) {
      if (!canSeeVhost(broker, req.caller, vhost) || !Array.isArray(counts)) continue;
      connections += Number(counts[0]) || 0;
      channels += Number(counts[1]) || 0;
    }
  }
  return {
    management_version: RABBITMQ_COMPATIBILITY,
    rates_mode: 'basic',
    exchange_types: EXCHANGE_TYPES,
    product_version: ctx.productVersion,
    product_name: ctx.productName,
    rabbitmq_version: RABBITMQ_COMPATIBILITY,
    cluster_name: ctx.clusterName,
    erlang_version: 'n/a',
    message_stats: messageStats(broker, totals, ctx),
    queue_totals: messageTotals(broker, totals, ctx),
    object_totals: { channels, connections, consumers, exchanges, queues },
    node: ctx.node,
    listeners,
    contexts: ctx
      .listeners()
      .filter((l) => l.protocol === 'http' || l.protocol === 'https')
      .map((l) => ({ node: ctx.node, description: 'RabbitMQ Management', path: '/', port: String(l.port) })),
  };
}

async function node(ctx: ApiContext): Promise<Record<string, unknown>> {
  const { broker } = ctx;
  const disk = await ctx.disk();
  const fds = await openFileDescriptors();
  return {
    name: ctx.node,
    type: 'disc',
    running: true,
    os_pid: String(process.pid),
    mem_used: process.memoryUsage().rss,
    mem_limit: broker.memory.vmLimit,
    mem_alarm: broker.alarms.isRaised('memory'),
    disk_free: disk?.free ?? 0,
    disk_free_limit: disk?.limit ?? 0,
    disk_free_alarm: broker.alarms.isRaised('disk'),
    ...(fds === undefined ? {} : { fd_used: fds }),
    sockets_used: broker.connections.size,
    proc_used: process.getActiveResourcesInfo().length,
    uptime: Date.now() - ctx.startedAt,
    processors: availableParallelism(),
  };
}

/** Open file descriptors, where the OS tells (Linux's /proc); undefined elsewhere. */
async function openFileDescriptors(): Promise<number | undefined> {
  try {
    return (await readdir('/proc/self/fd')).length;
  } catch {
    return undefined;
  }
}
