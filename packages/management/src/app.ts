import { hostname } from 'node:os';
import { statfs } from 'node:fs/promises';
import Fastify, { type FastifyInstance, type FastifyServerFactory } from 'fastify';
import type { Broker, Logger } from '@warren/core';
import { authenticateRequest, type ApiContext, type ListenerInfo } from './api';
import type { ClusterPeers } from './cluster';
import { consoleRoutes } from './console';
import { badRequest, notFound, toApiError } from './errors';
import { Rates } from './rates';
import { accessRoutes } from './routes/access';
import { connectionRoutes } from './routes/connections';
import { overviewRoutes } from './routes/overview';
import { topologyRoutes } from './routes/topology';
import { addCounters, emptyCounters, queueCounters, type Counters } from './shapes';

export interface ManagementOptions {
  broker: Broker;
  /** Shown as product_name; default 'Warren'. */
  productName?: string;
  /** packages/server's VERSION (or the operator's product.version), shown as product_version. */
  productVersion: string;
  /** The server's listeners for /api/overview and the listener health checks; read at each request. */
  listeners?: () => readonly ListenerInfo[];
  /** The data directory, whose file system's free space /api/nodes reports. */
  dataDir?: string;
  /** RabbitMQ's disk_free_limit, reported beside it. */
  diskFreeLimit?: number;
  /** Whether the broker serves clients (false once shutdown began); always true when omitted. */
  serving?: () => boolean;
  logger?: Logger;
  /** Request bodies above this are refused with 413 (definitions files are the big ones). */
  bodyLimit?: number;
  /** How often rates are sampled; RabbitMQ's collect_statistics_interval (5 s). */
  sampleIntervalMs?: number;
  /** On a cluster node: the other nodes, whose connections, channels and consumers the lists include. */
  cluster?: ClusterPeers;
}

const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;

/**
 * The management API as a fastify app, not yet listening: `listenManagement` serves it over HTTP(S), tests
 * may `inject` requests. Every /api route authenticates first; every failure, a bug included, answers as
 * RabbitMQ's JSON error and stays inside its request.
 */
export function createManagementApp(
  options: ManagementOptions,
  /** fastify's serverFactory: how listenManagement serves HTTPS. */
  serverFactory?: FastifyServerFactory,
): { app: FastifyInstance; rates: Rates<object> } {
  const { broker } = options;
  const node = options.cluster?.node ?? `warren@${hostname()}`;
  const logger = options.logger;
  const rates = new Rates<object>(
    () => sampleAll(broker),
    () => Date.now(),
    (err) => logger?.error({ err }, 'management rate sampling failed'),
  );
  const ctx: ApiContext = {
    broker,
    node,
    rates,
    productName: options.productName ?? 'Warren',
    productVersion: options.productVersion,
    clusterName: node,
    startedAt: Date.now(),
    listeners: options.listeners ?? (() => []),
    serving: options.serving ?? (() => true),
    disk: () => diskOf(options.dataDir, options.diskFreeLimit ?? 0),
    cluster: options.cluster,
  };
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    return503OnClosing: true,
    ...(serverFactory === undefined ? {} : { serverFactory }),
  });
  // RabbitMQ reads every body as JSON whatever its Content-Type (curl -d sends form encoding).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(badRequest('not_json'));
    }
  });
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/api/') || request.url === '/api') authenticateRequest(broker, request);
  });
  app.setNotFoundHandler(() => {
    throw notFound();
  });
  app.setErrorHandler((err, request, reply) => {
    const answer = toApiError(err);
    if (answer.status >= 500) logger?.error({ err, url: request.url }, 'management API request failed');
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  });
  overviewRoutes(app, ctx);
  topologyRoutes(app, ctx);
  accessRoutes(app, ctx);
  connectionRoutes(app, ctx);
  app.register(consoleRoutes);
  rates.start(options.sampleIntervalMs);
  app.addHook('onClose', async () => rates.stop());
  return { app, rates };
}

/** Each queue's counters, each vhost's sum and the broker's: one pass over the queues per sample. */
function* sampleAll(broker: Broker): Iterable<[object, Counters]> {
  const total = emptyCounters();
  for (const v of broker.vhosts.values()) {
    const sum = emptyCounters();
    for (const q of v.queues.values()) {
      const counters = queueCounters(q);
      addCounters(sum, counters);
      yield [q, counters];
    }
    addCounters(total, sum);
    yield [v, sum];
  }
  yield [broker, total];
}

async function diskOf(
  dir: string | undefined,
  limit: number,
): Promise<{ free: number; limit: number } | undefined> {
  if (dir === undefined) return undefined;
  try {
    const s = await statfs(dir);
    return { free: s.bavail * s.bsize, limit };
  } catch {
    return undefined;
  }
}
