import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListenError, type Logger } from '@warren/core';
import { Exporter, type ExporterOptions, type View } from './exporter';

export interface PrometheusListenOptions extends ExporterOptions {
  host: string;
  port: number;
  logger: Logger;
  /** False once a shutdown has begun: GET /ready answers 503 from then on. */
  serving: () => boolean;
}

/** The Prometheus endpoint on its socket, in the shape of the server's other listeners. */
export interface PrometheusListener {
  readonly name: 'prometheus';
  readonly address: { readonly host: string; readonly port: number };
  /**
   * It keeps answering while the broker drains, so /ready can say 503 until the end (see server.ts stop()).
   */
  readonly lastToClose: true;
  stopAccepting(): void;
  close(): Promise<void>;
}

/** Starts the endpoint; rejects with a ListenError (one line for the operator) if it cannot bind. */
export async function listenPrometheus(options: PrometheusListenOptions): Promise<PrometheusListener> {
  const exporter = new Exporter(options);
  const server = createServer((req, res) => {
    handle(exporter, options, req, res).catch((err: unknown) => {
      options.logger.error({ err, url: req.url }, 'prometheus: a scrape failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('scrape failed\n');
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => resolve());
    });
  } catch (err) {
    exporter.close();
    throw new ListenError('Prometheus', options.host, options.port, err as NodeJS.ErrnoException);
  }
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    name: 'prometheus',
    address: { host: options.host, port },
    lastToClose: true,
    stopAccepting() {
      server.close();
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        exporter.close();
      });
      return closed;
    },
  };
}

const ENDPOINTS = ['/metrics', '/metrics/per-object', '/metrics/detailed', '/ready'];

async function handle(
  exporter: Exporter,
  options: PrometheusListenOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (!ENDPOINTS.includes(url.pathname)) return text(res, 404, `not found; try ${ENDPOINTS.join(', ')}\n`);
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return text(res, 405, 'only GET\n', { allow: 'GET, HEAD' });
  if (url.pathname === '/ready') {
    return options.serving() ? text(res, 200, 'ok\n') : text(res, 503, 'shutting down\n');
  }
  const { contentType, body } = await exporter.render(viewOf(url));
  res.writeHead(200, { 'content-type': contentType });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** rabbitmq_prometheus's query: /metrics/detailed?family=queue_coarse_metrics&family=...&vhost=/ */
function viewOf(url: URL): View {
  if (url.pathname === '/metrics/per-object') return { kind: 'per-object' };
  if (url.pathname !== '/metrics/detailed') return { kind: 'aggregated' };
  const vhosts = url.searchParams.getAll('vhost');
  return {
    kind: 'detailed',
    families: new Set(url.searchParams.getAll('family')),
    vhosts: vhosts.length === 0 ? undefined : new Set(vhosts),
  };
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}
