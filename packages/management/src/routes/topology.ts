import type { FastifyInstance } from 'fastify';
import { Message, type Binding, type Destination, type QueueEntry, type Vhost } from '@warren/core';
import {
  Answer,
  NO_CONTENT,
  objectBody,
  putAnswer,
  resource,
  type ApiContext,
  type ApiRequest,
} from '../api';
import { canSeeVhost, requireVhostAccess, requireVhostRead, type Caller } from '../auth';
import { answerWhileOpen, isItem, remoteRows } from '../cluster';
import { badRequest, notFound } from '../errors';
import { bool, int, str, table } from '../fields';
import { applyListQuery, projectOne, type Item } from '../listing';
import {
  bindingShape,
  consumerShape,
  defaultBindingShape,
  exchangeShape,
  propertiesFromJson,
  propertiesKey,
  propertiesToJson,
  queueShape,
  vhostBindings,
} from '../shapes';
import { withChannel } from '../session';

/** RabbitMQ's name for the default exchange in URLs, where the empty name cannot appear. */
const exchangeParam = (name: string | undefined): string => (name === 'amq.default' ? '' : (name ?? ''));

const ACK_MODES = {
  ack_requeue_true: 'requeue',
  ack_requeue_false: 'ack',
  reject_requeue_true: 'requeue',
  reject_requeue_false: 'reject',
} as const;

/** Exchanges, queues, bindings and consumers, and publish and get through the API's own channel. */
export function topologyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { broker } = ctx;

  /** The vhosts a list covers: the one in the path (checked), or every one the caller may see. */
  const vhostsOf = (req: ApiRequest): Vhost[] => {
    const name = req.params['vhost'];
    if (name !== undefined) {
      requireVhostRead(broker, req.caller, name);
      return [broker.vhosts.get(name) as Vhost];
    }
    return [...broker.vhosts.values()].filter((v) => canSeeVhost(broker, req.caller, v.name));
  };
  const vhostOf = (req: ApiRequest): Vhost => vhostsOf(req)[0] as Vhost;
  const list = (req: ApiRequest, items: Item[]) => applyListQuery(items, req.query, ['vhost', 'name']);

  // ---- exchanges -------------------------------------------------------------------------------------
  const exchanges = (req: ApiRequest) =>
    list(
      req,
      vhostsOf(req).flatMap((v) => [...v.exchanges.values()].map(exchangeShape)),
    );
  resource(app, '/api/exchanges', { GET: exchanges });
  resource(app, '/api/exchanges/:vhost', { GET: exchanges });
  resource(app, '/api/exchanges/:vhost/:exchange', {
    GET: (req) => {
      const x = vhostOf(req).exchanges.get(exchangeParam(req.params['exchange']));
      if (x === undefined) throw notFound();
      return projectOne(exchangeShape(x), req.query.columns);
    },
    PUT: (req) => {
      const body = objectBody(req);
      const name = exchangeParam(req.params['exchange']);
      const v = writableVhost(ctx, req.caller, req.params['vhost']);
      const existed = v.exchanges.has(name);
      return withChannel(broker, req.caller.user, v.name, async ({ channel }) => {
        // A claim in a cluster (the reply waits until every node has the exchange); at once on one node.
        await channel.claims.exchangeDeclare(name, str(body, 'type'), {
          durable: bool(body, 'durable', true),
          autoDelete: bool(body, 'auto_delete', false),
          internal: bool(body, 'internal', false),
          arguments: table(body, 'arguments'),
        });
        return putAnswer(!existed);
      });
    },
    DELETE: (req) => {
      const v = writableVhost(ctx, req.caller, req.params['vhost']);
      const name = exchangeParam(req.params['exchange']);
      if (!v.exchanges.has(name)) throw notFound();
      return withChannel(broker, req.caller.user, v.name, async ({ channel }) => {
        await channel.claims.exchangeDelete(name, req.query['if-unused'] === 'true');
        return NO_CONTENT;
      });
    },
  });
  resource(app, '/api/exchanges/:vhost/:exchange/bindings/:direction', {
    GET: (req) => {
      const x = vhostOf(req).exchanges.get(exchangeParam(req.params['exchange']));
      const direction = req.params['direction'];
      if (x === undefined || (direction !== 'source' && direction !== 'destination')) throw notFound();
      const bindings = direction === 'source' ? [...x.bindings] : [...x.inbound];
      return list(
        req,
        bindings.map((b) => bindingShape(b, x.vhost)),
      );
    },
  });
  resource(app, '/api/exchanges/:vhost/:exchange/publish', {
    POST: async (req) => {
      const body = objectBody(req);
      const v = writableVhost(ctx, req.caller, req.params['vhost']);
      const name = exchangeParam(req.params['exchange']);
      if (!v.exchanges.has(name)) throw notFound();
      const routingKey = str(body, 'routing_key');
      const encoding = str(body, 'payload_encoding', 'string');
      if (encoding !== 'string' && encoding !== 'base64')
        throw badRequest(`invalid payload_encoding: ${encoding}`);
      const payload = Buffer.from(str(body, 'payload'), encoding === 'base64' ? 'base64' : 'utf8');
      const rawProps = body['properties'] ?? {};
      if (typeof rawProps !== 'object' || rawProps === null || Array.isArray(rawProps)) {
        throw badRequest('properties must be an object');
      }
      const properties = propertiesFromJson(rawProps as Item, (p) => badRequest(`invalid property ${p}`));
      const routed = await withChannel(broker, req.caller.user, v.name, (ch) => {
        ch.channel.checkUserId(properties.userId);
        return ch.publish(name, Message.fromProperties(name, routingKey, properties, payload));
      });
      return { routed };
    },
  });

  // ---- queues ----------------------------------------------------------------------------------------
  const queues = (req: ApiRequest) =>
    list(
      req,
      vhostsOf(req).flatMap((v) => [...v.queues.values()].map((q) => queueShape(q, ctx))),
    );
  resource(app, '/api/queues', { GET: queues });
  resource(app, '/api/queues/:vhost', { GET: queues });
  resource(app, '/api/queues/:vhost/:queue', {
    GET: (req) => {
      const q = vhostOf(req).queues.get(req.params['queue'] ?? '');
      if (q === undefined) throw notFound();
      return projectOne(
        { ...queueShape(q, ctx), consumer_details: q.consumers.map(consumerShape) },
        req.query.columns,
      );
    },
    PUT: (req) => {
      const body = objectBody(req);
      const name = req.params['queue'] ?? '';
      const v = writableVhost(ctx, req.caller, req.params['vhost']);
      const existed = v.queues.has(name);
      return withChannel(broker, req.caller.user, v.name, async ({ channel }) => {
        await channel.claims.queueDeclare(name, {
          durable: bool(body, 'durable', true),
          autoDelete: bool(body, 'auto_delete', false),
          // An exclusive queue would die with the API's own connection at the end of this request.
          exclusive: false,
          arguments: table(body, 'arguments'),
        });
        return putAnswer(!existed);
      });
    },
    DELETE: (req) => {
      const v = writableVhost(ctx, req.caller, req.params['vhost']);
      const name = req.params['queue'] ?? '';
      if (!v.queues.has(name)) throw notFound();
      return withChannel(broker, req.caller.user, v.name, async ({ channel }) => {
        await channel.claims.queueDelete(
          name,
          req.query['if-unused'] === 'true',
          req.query['if-empty'] === 'true',
        );
        return NO_CONTENT;
      });
    },
  });
  resource(app, '/api/queues/:vhost/:queue/bindings', {
    GET: (req) => {
      const q = vhostOf(req).queues.get(req.params['queue'] ?? '');
      if (q === undefined) throw notFound();
      return list(req, [
        defaultBindingShape(q),
        ...[...q.bindings].map((b) => bindingShape(b, q.vhost.name)),
      ]);
    },
  });
  resource(app, '/api/queues/:vhost/:queue/contents', {
    DELETE: (req) => {
      const v = writableVhost(ctx, req.caller, req.params['vhost']);
      const name = req.params['queue'] ?? '';
      if (!v.queues.has(name)) throw notFound();
      return withChannel(broker, req.caller.user, v.name, async ({ channel }) => {
        await channel.queuePurge(name);
        return NO_CONTENT;
      });
    },
  });
  resource(app, '/api/queues/:vhost/:queue/get', {
    POST: async (req) => {
      const body = objectBody(req);
      const v = writableVhost(ctx, req.caller, req.params['vhost']);
      const name = req.params['queue'] ?? '';
      const q = v.queues.get(name);
      if (q === undefined) throw notFound();
      const count = int(body, 'count', 1);
      const ackmode = str(body, 'ackmode');
      const settle = ACK_MODES[ackmode as keyof typeof ACK_MODES];
      if (settle === undefined) throw badRequest(`invalid ackmode: ${ackmode}`);
      const encoding = str(body, 'encoding', 'auto');
      if (encoding !== 'auto' && encoding !== 'base64') throw badRequest(`invalid encoding: ${encoding}`);
      const truncate = body['truncate'] === undefined ? undefined : int(body, 'truncate', 0);
      return withChannel(broker, req.caller.user, v.name, async (ch) => {
        const messages: Item[] = [];
        let last: QueueEntry | undefined;
        // All are taken before any goes back, so a requeueing get of 2 returns 2 messages, not one twice.
        for (let i = 0; i < count; i++) {
          const entry = await ch.getOne(name);
          if (entry === undefined) break;
          messages.push(messageShape(entry, q.messageCount, encoding, truncate));
          last = entry;
        }
        if (last !== undefined) {
          if (settle === 'ack') ch.channel.ack(last.tag, true);
          else ch.channel.nack(last.tag, true, settle === 'requeue');
        }
        return messages;
      });
    },
  });

  // ---- bindings --------------------------------------------------------------------------------------
  const bindings = (req: ApiRequest) => list(req, vhostsOf(req).flatMap(vhostBindings));
  resource(app, '/api/bindings', { GET: bindings });
  resource(app, '/api/bindings/:vhost', { GET: bindings });
  const between = (req: ApiRequest) => {
    const v = vhostOf(req);
    const source = v.exchanges.get(exchangeParam(req.params['source']));
    const dest = destinationOf(v, req.params['kind'], req.params['destination']);
    if (source === undefined || dest === undefined) throw notFound();
    return { v, source, dest };
  };
  resource(app, '/api/bindings/:vhost/e/:source/:kind/:destination', {
    GET: (req) => {
      const { v, source, dest } = between(req);
      const found = [...source.bindings].filter((b) => b.destination === dest);
      return list(
        req,
        found.map((b) => bindingShape(b, v.name)),
      );
    },
    POST: (req) => {
      const body = objectBody(req);
      writableVhost(ctx, req.caller, req.params['vhost']);
      const { v, source, dest } = between(req);
      const routingKey = str(body, 'routing_key', '');
      const args = table(body, 'arguments');
      return withChannel(broker, req.caller.user, v.name, async ({ channel }) => {
        if (dest.kind === 'queue') await channel.claims.queueBind(dest.name, source.name, routingKey, args);
        else await channel.claims.exchangeBind(dest.name, source.name, routingKey, args);
        const location = `${encodeURIComponent(dest.name)}/${propertiesKey(routingKey, args)}`;
        return new Answer(201, undefined, { Location: location });
      });
    },
  });
  /** The binding a props key names; the path's props arrive decoded (order.%23 as order.#), so compare decoded. */
  const bindingAt = (
    source: ReturnType<typeof between>['source'],
    dest: ReturnType<typeof between>['dest'],
    props: string | undefined,
  ): Binding => {
    const found = [...source.bindings].find(
      (b) => b.destination === dest && decodeURIComponent(propertiesKey(b.routingKey, b.arguments)) === props,
    );
    if (found === undefined) throw notFound();
    return found;
  };
  resource(app, '/api/bindings/:vhost/e/:source/:kind/:destination/:props', {
    GET: (req) => {
      const { v, source, dest } = between(req);
      const b = bindingAt(source, dest, req.params['props']);
      return bindingShape(b, v.name);
    },
    DELETE: (req) => {
      writableVhost(ctx, req.caller, req.params['vhost']);
      const { v, source, dest } = between(req);
      const b = bindingAt(source, dest, req.params['props']);
      return withChannel(broker, req.caller.user, v.name, async ({ channel }) => {
        if (dest.kind === 'queue')
          await channel.claims.queueUnbind(dest.name, source.name, b.routingKey, b.arguments);
        else await channel.claims.exchangeUnbind(dest.name, source.name, b.routingKey, b.arguments);
        return NO_CONTENT;
      });
    },
  });

  // ---- consumers -------------------------------------------------------------------------------------
  // A cluster's queues are on every node, each with that node's consumers: the other nodes answer for theirs.
  const localConsumers = (vhosts: Iterable<Vhost>): Item[] =>
    [...vhosts].flatMap((v) => [...v.queues.values()].flatMap((q) => q.consumers.map(consumerShape)));
  answerWhileOpen(app, ctx.cluster, 'consumers', () => localConsumers(broker.vhosts.values()));
  const consumers = async (req: ApiRequest) => {
    const seen = new Set(vhostsOf(req).map((v) => v.name));
    const remote = (await remoteRows(ctx.cluster, 'consumers')).filter(
      (row) => isItem(row['queue']) && seen.has(row['queue']['vhost'] as string),
    );
    return applyListQuery([...localConsumers(vhostsOf(req)), ...remote], req.query, [
      'queue.vhost',
      'queue.name',
      'consumer_tag',
    ]);
  };
  resource(app, '/api/consumers', { GET: consumers });
  resource(app, '/api/consumers/:vhost', { GET: consumers });
}

/** The vhost of a write: it must exist and the caller have permissions there (see requireVhostAccess). */
function writableVhost({ broker }: ApiContext, caller: Caller, name: string | undefined): Vhost {
  requireVhostAccess(broker, caller, name ?? '');
  return broker.vhosts.get(name ?? '') as Vhost;
}

function destinationOf(
  v: Vhost,
  kind: string | undefined,
  name: string | undefined,
): Destination | undefined {
  if (kind === 'q') return v.queues.get(name ?? '');
  if (kind === 'e') return v.exchanges.get(exchangeParam(name));
  return undefined;
}

/** One message of POST .../get, as RabbitMQ shows it. */
function messageShape(
  entry: QueueEntry,
  remaining: number,
  encoding: 'auto' | 'base64',
  truncate: number | undefined,
): Item {
  const { msg } = entry;
  const body = truncate === undefined ? msg.body : msg.body.subarray(0, truncate);
  const text = encoding === 'auto' ? utf8(body) : undefined;
  return {
    payload_bytes: msg.size,
    redelivered: entry.redelivered,
    exchange: msg.exchange,
    routing_key: msg.routingKey,
    message_count: remaining,
    properties: propertiesToJson(msg.properties),
    payload: text ?? body.toString('base64'),
    payload_encoding: text === undefined ? 'base64' : 'string',
  };
}

/** The body as text when it is valid UTF-8 (RabbitMQ's `auto`), else undefined. */
function utf8(body: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return undefined;
  }
}
