/*
 * A throwaway NATS cluster of real nats-server processes, for tests and demos: N servers with JetStream,
 * each on its own free ports (client, route, monitoring: never the 4222/6222/8222 defaults) and its own
 * storage directory under os.tmpdir(), routed to each other. `ready()` polls every running server's
 * monitoring endpoint until JetStream agrees on a meta leader; nothing here sleeps on luck.
 *
 * Every process started is SIGKILLed by stop(), and by a process 'exit' hook if a test run ends without it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsClusterOptions {
  /** How many servers (default 3: the smallest cluster that keeps R3 streams writable through a failure). */
  servers?: number;
  /** Parent of the cluster's directory (default os.tmpdir()); removed again by stop(). */
  dir?: string;
  /** nats-server binary (default $NATS_SERVER, /usr/sbin/nats-server if present, else nats-server on PATH). */
  binary?: string;
  /** How long ready() waits, ms (default 30 s). */
  readyTimeoutMs?: number;
  /** The servers' max_payload in bytes (nats-server's default: 1 MiB); a message bigger cannot be published. */
  maxPayload?: number;
}

export interface NatsCluster {
  /** nats://127.0.0.1:port, one per server, in server order. */
  readonly urls: string[];
  /** Server names (n1, n2, ...), as JetStream reports leaders. */
  readonly names: string[];
  /** The cluster's directory: one config, log and store directory per server. */
  readonly dir: string;
  /** SIGKILL server i; resolves once it has exited. */
  kill(i: number): Promise<void>;
  /** Start server i again on the same ports and storage (after kill). */
  restart(i: number): Promise<void>;
  /** Index of a server name (as in a stream's cluster.leader), -1 if unknown. */
  indexOf(name: string): number;
  /** Every running server is up and routed, JetStream has a meta leader they all agree on. */
  ready(): Promise<void>;
  /** Kills every server and removes the directory. */
  stop(): Promise<void>;
}

interface Ports {
  client: number;
  cluster: number;
  http: number;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export function natsServerBinary(): string {
  const env = process.env['NATS_SERVER'];
  if (env !== undefined && env !== '') return env;
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';
}

/**
 * A port nobody listens on now, below the kernel's ephemeral range. A port in that range (what binding port 0
 * hands out) may be taken by any outgoing connection in the moment between this probe and the server's own
 * bind, and a whole test run makes thousands of those; below the range only another listener can take it.
 */
export async function freePort(): Promise<number> {
  const below = await ephemeralLow();
  const lowest = Math.min(10_000, below - 1000);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = lowest + Math.floor(Math.random() * (below - lowest));
    if (RESERVED_PORTS.has(port)) continue;
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port found between ${lowest} and ${below}`);
}

/** Ports that are a broker's or NATS's standard ones, or the reference RabbitMQ's: never handed out. */
const RESERVED_PORTS = new Set([
  4222, 5671, 5672, 6222, 8222, 15671, 15672, 15674, 15685, 15686, 15692, 25672,
]);

/** The first port of the kernel's ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range). */
async function ephemeralLow(): Promise<number> {
  try {
    const low = Number(
      (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/)[0],
    );
    if (Number.isInteger(low) && low > 12_000) return low;
  } catch {
    // Not Linux: IANA's dynamic range starts here.
  }
  return 49_152;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const n = options.servers ?? 3;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`servers must be a positive integer, not ${n}`);
  const binary = options.binary ?? natsServerBinary();
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const dir = await mkdtemp(join(options.dir ?? tmpdir(), 'warren-nats-'));
  installExitHook();

  // All ports first, distinct from each other: a port freed by one probe could be handed out again.
  const taken = new Set<number>();
  const pick = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  const ports: Ports[] = [];
  for (let i = 0; i < n; i++) ports.push({ client: await pick(), cluster: await pick(), http: await pick() });
  const names = ports.map((_p, i) => `n${i + 1}`);
  const urls = ports.map((p) => `nats://127.0.0.1:${p.client}`);
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.cluster}`);

  const configs: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = ports[i] as Ports;
    const serverDir = join(dir, names[i] as string);
    await mkdir(join(serverDir, 'store'), { recursive: true });
    const config = join(serverDir, 'nats.conf');
    const lines = [
      `server_name: ${names[i]}`,
      `listen: 127.0.0.1:${p.client}`,
      `http: 127.0.0.1:${p.http}`,
      ...(options.maxPayload !== undefined ? [`max_payload: ${options.maxPayload}`] : []),
      // Tests and demos share a small machine: bounded memory store, file store as large as needed.
      `jetstream { store_dir: ${JSON.stringify(join(serverDir, 'store'))}, max_memory_store: 64MB, max_file_store: 4GB }`,
    ];
    if (n > 1) {
      lines.push(
        `cluster { name: warren-test, listen: 127.0.0.1:${p.cluster}, routes: [${routes.map((r) => JSON.stringify(r)).join(', ')}] }`,
      );
    }
    await writeFile(config, lines.join('\n') + '\n');
    configs.push(config);
  }

  const children: (ChildProcess | undefined)[] = new Array<ChildProcess | undefined>(n).fill(undefined);
  const exited: (Promise<void> | undefined)[] = new Array<Promise<void> | undefined>(n).fill(undefined);

  // A server that exited without kill() (a port taken after all, a bad store): ready() says so at once.
  const died: (string | undefined)[] = new Array<string | undefined>(n).fill(undefined);
  const killing = new Set<ChildProcess>();
  const logOf = (i: number): string => join(dir, names[i] as string, 'server.log');

  const launch = (i: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = spawn(binary, ['-c', configs[i] as string, '-l', logOf(i)], { stdio: 'ignore' });
      children[i] = child;
      died[i] = undefined;
      live.add(child);
      exited[i] = new Promise<void>((done) => {
        child.once('exit', (code, signal) => {
          live.delete(child);
          if (!killing.delete(child)) died[i] = `exited by itself (${signal ?? `code ${code}`})`;
          if (children[i] === child) children[i] = undefined;
          done();
        });
      });
      child.once('error', (err) => reject(new Error(`cannot start ${binary}: ${err.message}`)));
      child.once('spawn', () => resolve());
    });

  const kill = async (i: number): Promise<void> => {
    const child = children[i];
    if (child === undefined) return;
    killing.add(child);
    child.kill('SIGKILL');
    await exited[i];
  };

  const stop = async (): Promise<void> => {
    await Promise.all(children.map((_c, i) => kill(i)));
    await rm(dir, { recursive: true, force: true });
  };

  const ready = async (): Promise<void> => {
    const deadline = Date.now() + readyTimeoutMs;
    let last = 'no answer yet';
    for (;;) {
      const dead = died.findIndex((d) => d !== undefined);
      if (dead >= 0) {
        throw new Error(
          `nats-server ${names[dead]} ${died[dead]}; its log ends:\n${await logTail(logOf(dead))}`,
        );
      }
      const running = children.flatMap((c, i) => (c !== undefined ? [i] : []));
      try {
        const verdict = await clusterVerdict(
          running.map((i) => (ports[i] as Ports).http),
          n > 1,
        );
        if (verdict === 'ok') return;
        last = verdict;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) {
        // The directory goes with stop(): what the servers said travels in the error.
        const tails = await Promise.all(
          running.map(async (i) => `${names[i]}:\n${await logTail(logOf(i), 6)}`),
        );
        throw new Error(`NATS cluster not ready after ${readyTimeoutMs} ms: ${last}\n${tails.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  try {
    for (let i = 0; i < n; i++) await launch(i);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    urls,
    names,
    dir,
    kill,
    restart: async (i) => {
      if (children[i] !== undefined) throw new Error(`server ${names[i]} is running`);
      await launch(i);
    },
    indexOf: (name) => names.indexOf(name),
    ready,
    stop,
  };
}

async function logTail(path: string, lines = 15): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(no log: ${(err as Error).message})`;
  }
}

interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number; replicas?: { name: string; current: boolean }[] };
}

/** 'ok', or what is still missing, from every running server's /healthz and /jsz. */
async function clusterVerdict(httpPorts: number[], clustered: boolean): Promise<string> {
  const leaders = new Set<string>();
  for (const port of httpPorts) {
    const health = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
    if (health.status !== 200) return `:${port} /healthz ${health.status} ${await health.text()}`;
    if (!clustered) continue;
    const jsz = (await (
      await fetch(`http://127.0.0.1:${port}/jsz`, { signal: AbortSignal.timeout(2000) })
    ).json()) as Jsz;
    const leader = jsz.meta_cluster?.leader;
    if (leader === undefined || leader === '') return `:${port} sees no JetStream meta leader`;
    leaders.add(leader);
  }
  if (leaders.size > 1) return `servers disagree on the meta leader (${[...leaders].join(', ')})`;
  return 'ok';
}
