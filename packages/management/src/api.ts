import type { Broker } from '@warren/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate, type Caller } from './auth';
import type { ClusterPeers } from './cluster';
import { badRequest, methodNotAllowed } from './errors';
import type { ListQuery } from './listing';
import type { ShapeContext } from './shapes';

/** One listener RabbitMQ-style, for /api/overview and the port-listener health checks. */
export interface ListenerInfo {
  /** 'amqp', 'amqp/ssl', 'stomp', 'stomp/ssl', 'http/web-stomp', 'https/web-stomp', 'http', 'https'. */
  protocol: string;
  ip_address: string;
  port: number;
}

/** What the routes share: the broker, the node's identity, the rate sampler and the server's facts. */
export interface ApiContext extends ShapeContext {
  readonly broker: Broker;
  /** product_name: 'Warren' unless the operator set product.name. */
  readonly productName: string;
  /** product_version: packages/server's VERSION unless the operator set product.version. */
  readonly productVersion: string;
  readonly clusterName: string;
  readonly startedAt: number;
  /** The server's listeners, this one included, read at request time (ports may be picked by the OS). */
  readonly listeners: () => readonly ListenerInfo[];
  /** Free bytes and the limit on the data directory's file system, for /api/nodes; undefined when unknown. */
  readonly disk: () => Promise<{ free: number; limit: number } | undefined>;
  /** Whether the broker accepts clients now (false while it shuts down). */
  readonly serving: () => boolean;
  /** The other nodes, on a cluster node: what its lists of connections, channels and consumers add. */
  readonly cluster: ClusterPeers | undefined;
}

export interface ApiRequest {
  readonly caller: Caller;
  readonly params: Readonly<Record<string, string>>;
  readonly query: ListQuery & Readonly<Record<string, string | undefined>>;
  /** The parsed JSON body; undefined without one. */
  readonly body: unknown;
  /** Request headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** A response other than 200 with a JSON body. */
export class Answer {
  constructor(
    readonly status: number,
    readonly body?: unknown,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {}
}

export const NO_CONTENT = new Answer(204);
/** RabbitMQ's PUT: 201 when it created the object, 204 when it was already there. */
export const putAnswer = (created: boolean): Answer => new Answer(created ? 201 : 204);

export type Handler = (req: ApiRequest) => unknown;
type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

/**
 * Registers one path with a handler per method. Any other method gets RabbitMQ's 405 with an Allow header
 * (fastify alone would answer 404), HEAD follows GET.
 */
export function resource(
  app: FastifyInstance,
  path: string,
  handlers: Partial<Record<Method, Handler>>,
): void {
  const allowed = Object.keys(handlers) as Method[];
  const allow = allowed.includes('GET') ? ['HEAD', ...allowed, 'OPTIONS'] : [...allowed, 'OPTIONS'];
  app.all(path, async (request, reply) => {
    const method = request.method === 'HEAD' ? 'GET' : (request.method as Method);
    const handler = handlers[method];
    if (request.method === 'OPTIONS') return reply.code(200).header('Allow', allow.join(', ')).send();
    if (handler === undefined) throw methodNotAllowed(allow);
    const answer = await handler(apiRequest(request));
    if (!(answer instanceof Answer)) return reply.code(200).send(answer);
    reply.code(answer.status).headers(answer.headers);
    return answer.body === undefined ? reply.send() : reply.send(answer.body);
  });
}

/** The caller is authenticated in the app's onRequest hook and kept on the request. */
declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | undefined;
  }
}

export function authenticateRequest(broker: Broker, request: FastifyRequest): void {
  request.caller = authenticate(broker, request.headers.authorization, request.socket.remoteAddress);
}

function apiRequest(request: FastifyRequest): ApiRequest {
  if (request.caller === undefined) throw new Error('route reached without authentication');
  return {
    caller: request.caller,
    params: request.params as Record<string, string>,
    query: request.query as ListQuery & Record<string, string | undefined>,
    body: request.body,
    headers: request.headers,
  };
}

/** The JSON object body a PUT or POST must carry; 400 for anything else. */
export function objectBody(req: ApiRequest): Record<string, unknown> {
  const body = req.body ?? {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('not_json');
  return body as Record<string, unknown>;
}
