import type { FastifyInstance } from 'fastify';
import type { Connection } from '@warren/core';
import { NO_CONTENT, resource, type ApiContext, type ApiRequest } from '../api';
import { requireTag, seesAll } from '../auth';
import { answerWhileOpen, isItem, remoteRows } from '../cluster';
import { notFound } from '../errors';
import { applyListQuery, projectOne, type Item } from '../listing';
import { channelShape, connectionShape } from '../shapes';

/** RabbitMQ's default reason for a connection closed from the management UI. */
const CLOSED_VIA_API = 'Closed via management plugin';

/**
 * The connections and channels clients hold, on every node of a cluster: this node's own, shaped here, and
 * the other nodes' as they shaped them (cluster.ts). Who sees which is decided here, by each row's user.
 */
export function connectionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { broker, cluster } = ctx;

  /** Clients' connections on this node: the management API's own (protocol 'direct') are not listed. */
  const local = (): Connection[] =>
    [...broker.connections.values()].filter((c) => c.info.protocol !== 'direct');
  const localChannels = (): Item[] =>
    local().flatMap((c) => [...c.channels.values()].map((ch) => channelShape(ch, ctx)));

  answerWhileOpen(app, cluster, 'connections', () => local().map((c) => connectionShape(c, ctx)));
  answerWhileOpen(app, cluster, 'channels', localChannels);
  answerWhileOpen(app, cluster, 'close', (args) => {
    if (!isItem(args) || typeof args['name'] !== 'string') return false;
    const c = local().find((c) => c.name === args['name']);
    c?.forceClose(typeof args['reason'] === 'string' ? args['reason'] : CLOSED_VIA_API);
    return c !== undefined;
  });

  /** RabbitMQ shows everyone's to monitoring users and administrators, and their own to the others. */
  const visible =
    (req: ApiRequest) =>
    (row: Item): boolean =>
      (seesAll(req.caller) || row['user'] === req.caller.user.name) &&
      (req.params['vhost'] === undefined || row['vhost'] === req.params['vhost']);

  const connectionRows = async (req: ApiRequest): Promise<Item[]> =>
    [...local().map((c) => connectionShape(c, ctx)), ...(await remoteRows(cluster, 'connections'))].filter(
      visible(req),
    );
  const channelRows = async (req: ApiRequest): Promise<Item[]> =>
    [...localChannels(), ...(await remoteRows(cluster, 'channels'))].filter(visible(req));

  const connections = async (req: ApiRequest) => applyListQuery(await connectionRows(req), req.query);
  resource(app, '/api/connections', { GET: connections });
  resource(app, '/api/vhosts/:vhost/connections', { GET: connections });

  const findConnection = async (req: ApiRequest): Promise<Item> => {
    const name = req.params['connection'] ?? '';
    const row = (await connectionRows(req)).find((row) => row['name'] === name);
    if (row === undefined) throw notFound();
    return row;
  };
  resource(app, '/api/connections/:connection', {
    GET: async (req) => projectOne(await findConnection(req), req.query.columns),
    DELETE: async (req) => {
      const row = await findConnection(req);
      // RabbitMQ lets an administrator close any connection and others only their own.
      if (row['user'] !== req.caller.user.name) requireTag(req.caller, 'administrator');
      // RabbitMQ takes the reason from an X-Reason header (rabbitmqctl close_connection's explanation).
      const header = req.headers['x-reason'];
      const reason = typeof header === 'string' && header !== '' ? header : CLOSED_VIA_API;
      const here = local().find((c) => c.name === row['name']);
      if (here !== undefined) here.forceClose(reason);
      else {
        const answers = await cluster?.ask('close', { name: row['name'], reason });
        // Gone meanwhile, or its node stopped answering: as RabbitMQ, a connection it cannot find is 404.
        if (answers?.some((a) => a.answer === true) !== true) throw notFound();
      }
      return NO_CONTENT;
    },
  });
  resource(app, '/api/connections/:connection/channels', {
    GET: async (req) => {
      const { name } = await findConnection(req);
      const ofIt = (await channelRows(req)).filter(
        (ch) => isItem(ch['connection_details']) && ch['connection_details']['name'] === name,
      );
      return applyListQuery(ofIt, req.query);
    },
  });

  const channels = async (req: ApiRequest) => applyListQuery(await channelRows(req), req.query);
  resource(app, '/api/channels', { GET: channels });
  resource(app, '/api/vhosts/:vhost/channels', { GET: channels });
  resource(app, '/api/channels/:channel', {
    GET: async (req) => {
      const row = (await channelRows(req)).find((ch) => ch['name'] === req.params['channel']);
      if (row === undefined) throw notFound();
      return projectOne(row, req.query.columns);
    },
  });
}
