import type { Server as HttpServer, RequestListener, ServerOptions as HttpServerOptions } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ListenError } from '@warren/core';
import { createManagementApp, type ManagementOptions } from './app';

export interface ManagementListenOptions extends ManagementOptions {
  host: string;
  port: number;
  /** 'http' or 'https', as the listener logs and /api/overview lists it. */
  name?: string;
  /** For HTTPS: makes the server (TlsEndpoint.createHttpServer in packages/server); plain HTTP without it. */
  createServer?: (options: HttpServerOptions, onRequest: RequestListener) => HttpsServer;
}

/** The management API on a socket, in the shape of the server's other listeners. */
export interface ManagementListener {
  readonly name: string;
  readonly address: { readonly host: string; readonly port: number };
  /** Stops taking connections; requests under way finish. */
  stopAccepting(): void;
  /** Closes the app and every connection (idle keep-alive ones at once), and stops the rate sampler. */
  close(): Promise<void>;
}

/** Starts the management API; rejects with a ListenError (one line for the operator) if it cannot bind. */
export async function listenManagement(options: ManagementListenOptions): Promise<ManagementListener> {
  const name = options.name ?? 'http';
  const { createServer } = options;
  const { app } = createManagementApp(
    options,
    createServer === undefined ? undefined : (handler) => createServer({}, handler) as unknown as HttpServer,
  );
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    await app.close();
    throw new ListenError(
      name === 'https' ? 'HTTPS management' : 'HTTP management',
      options.host,
      options.port,
      err as NodeJS.ErrnoException,
    );
  }
  const address = app.server.address() as AddressInfo;
  let accepting = true;
  return {
    name,
    address: { host: options.host, port: address.port },
    stopAccepting() {
      if (!accepting) return;
      accepting = false;
      // New connections are refused; fastify's close() below waits for this same server to finish.
      app.server.close();
    },
    async close() {
      accepting = false;
      app.server.closeIdleConnections();
      await app.close();
    },
  };
}
