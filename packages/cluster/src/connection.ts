/*
 * One NATS connection per Warren node, shared by every queue stream and the topology bucket. Reconnects
 * forever (a broker node does not give up on its cluster); who is connected where is told through
 * onDisconnect/onReconnect, read from the client's status iterator.
 */
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';

export interface ClusterConnectOptions {
  /** nats://host:port URLs; the client picks among them and learns the rest of the cluster from the servers. */
  servers: string[];
  /** The connection name servers show (`/connz`): the Warren node's name. */
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** JetStream API timeout, ms (default 5000). */
  apiTimeoutMs?: number;
  /** Wait between attempts on one server, ms (default 250: a cluster has other servers to try meanwhile). */
  reconnectWaitMs?: number;
  /** Where a listener's exception goes; listeners must not break the status loop. */
  onListenerError?: (err: unknown) => void;
}

export interface ClusterConnection {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** The version of the server this connection is on now (it changes with a reconnect). */
  readonly serverVersion: string;
  readonly connected: boolean;
  /** Whether the current server is at least major.minor.patch: gate features newer than 2.9 on this. */
  atLeast(major: number, minor: number, patch: number): boolean;
  /** Returns a function that removes the listener. */
  onDisconnect(fn: (server: string) => void): () => void;
  onReconnect(fn: (server: string) => void): () => void;
  /** Drains nothing: closes the connection (pending publishes fail), after which status listeners stop. */
  close(): Promise<void>;
}

export async function connectCluster(options: ClusterConnectOptions): Promise<ClusterConnection> {
  const opts: ConnectionOptions = {
    servers: options.servers,
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectWaitMs ?? 250,
  };
  if (options.name !== undefined) opts.name = options.name;
  if (options.user !== undefined) opts.user = options.user;
  if (options.pass !== undefined) opts.pass = options.pass;
  if (options.token !== undefined) opts.token = options.token;
  if (options.tls !== undefined) opts.tls = { ...options.tls };
  const nc = await connect(opts);
  const timeout = options.apiTimeoutMs ?? 5000;
  const jsm = await jetstreamManager(nc, { timeout });
  const js = jetstream(nc, { timeout });
  return new Connection(nc, js, jsm, options.onListenerError);
}

/** "2.9.10" -> [2, 9, 10]; pre-release and build suffixes are ignored. */
export function parseVersion(v: string): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v);
  if (m === null) return [0, 0, 0];
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

class Connection implements ClusterConnection {
  private isConnected = true;
  private readonly disconnects = new Set<(server: string) => void>();
  private readonly reconnects = new Set<(server: string) => void>();
  private readonly statusLoop: Promise<void>;

  constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly onListenerError: ((err: unknown) => void) | undefined,
  ) {
    this.statusLoop = this.watchStatus();
  }

  get serverVersion(): string {
    return this.nc.info?.version ?? '0.0.0';
  }

  get connected(): boolean {
    return this.isConnected && !this.nc.isClosed();
  }

  atLeast(major: number, minor: number, patch: number): boolean {
    const [a, b, c] = parseVersion(this.serverVersion);
    if (a !== major) return a > major;
    if (b !== minor) return b > minor;
    return c >= patch;
  }

  onDisconnect(fn: (server: string) => void): () => void {
    this.disconnects.add(fn);
    return () => this.disconnects.delete(fn);
  }

  onReconnect(fn: (server: string) => void): () => void {
    this.reconnects.add(fn);
    return () => this.reconnects.delete(fn);
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
    this.isConnected = false;
    await this.statusLoop;
  }

  private async watchStatus(): Promise<void> {
    try {
      for await (const s of this.nc.status()) {
        if (s.type === 'disconnect') {
          this.isConnected = false;
          this.emit(this.disconnects, s.server);
        } else if (s.type === 'reconnect') {
          this.isConnected = true;
          this.emit(this.reconnects, s.server);
        }
      }
    } catch (err) {
      this.onListenerError?.(err);
    }
  }

  private emit(listeners: Set<(server: string) => void>, server: string): void {
    for (const fn of listeners) {
      try {
        fn(server);
      } catch (err) {
        this.onListenerError?.(err);
      }
    }
  }
}
