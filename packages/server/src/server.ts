import { join } from 'node:path';
import { Broker, MemoryStore, silentLogger, type Logger } from '@warren/core';
import { DirectoryError, Journal, type JournalOptions } from '@warren/journal';
import type { WarrenConfig } from './config';
import { DataDirError, prepareDataDir } from './data-dir';
import { loadDefinitions } from './definitions-file';
import { joinCluster, type ClusterMembership } from './join-cluster';
import { LISTENERS, type Listener, type ListenerFactory } from './listeners';
import { TlsEndpoints } from './tls';
import { VERSION } from './version';
import { warmUp } from './warm-up';

export interface ServerHandle {
  readonly broker: Broker;
  /** In the order they opened. */
  readonly listeners: readonly Listener[];
  /** Closes the listeners, then the broker. Safe to call more than once: every call gets the same promise. */
  close(): Promise<void>;
  /**
   * While close() runs, what it is still waiting for, one phrase each (empty before close() and after it
   * settles): the log line of a shutdown that overran its deadline.
   */
  pending(): string[];
  /**
   * Rereads every TLS listener's certificate, key and CA files (SIGHUP): open connections stay, new handshakes
   * get the new certificate. A set that cannot be used is logged and the old one kept. True when all reloaded.
   */
  reloadTls(trigger?: string): boolean;
}

/** Where a start is, for the log line of a shutdown requested while startup hangs. */
export type StartStep =
  | 'preparing the data directory'
  | 'opening the journal'
  | 'restoring durable state'
  | 'joining the cluster'
  | 'loading definitions'
  | 'warming up'
  | 'opening listeners';

export interface StartOptions {
  /** Defaults to silentLogger, so embedding warren in a test prints nothing. */
  logger?: Logger;
  /** Defaults to LISTENERS; tests pass their own to start only what they exercise. */
  listeners?: readonly ListenerFactory[];
  /** How the journal reads free disk space; tests replace it to play a filling disk. */
  freeSpace?: JournalOptions['freeSpace'];
  /** Called as each step of the start begins. */
  onStep?: (step: StartStep) => void;
  /**
   * Runs the warm-up (warm-up.ts) before the listeners open when config.warmUp is on too. Default false: an
   * embedder (a test) starts in milliseconds; `warren start` passes true.
   */
  warmUp?: boolean;
}

/**
 * Brings a broker up: data directory, broker (which restores durable state), then the listeners, so no client
 * can connect before the queues it expects exist. If any step fails, whatever already started is closed
 * before the error is rethrown, so a failed start leaves no port bound.
 */
export async function startServer(config: WarrenConfig, options: StartOptions = {}): Promise<ServerHandle> {
  const { logger = silentLogger, listeners: factories = LISTENERS, freeSpace, onStep = () => {} } = options;
  const warm = options.warmUp === true && config.warmUp;

  onStep('preparing the data directory');
  await prepareDataDir(config.dataDir);
  // Durable state lives in the journal under the data directory; recovery runs here, before any listener opens.
  // A cluster node keeps it in NATS JetStream instead (docs/cluster.md): its own store only holds what is local.
  const clustered = config.cluster.natsServers.length > 0;
  let journal: Journal | undefined;
  if (!clustered) {
    onStep('opening the journal');
    try {
      journal = await Journal.open({
        dir: join(config.dataDir, 'journal'),
        logger: logger.child({ component: 'journal' }),
        diskFreeLimit: config.diskFreeLimit,
        ...(freeSpace === undefined ? {} : { freeSpace }),
      });
    } catch (err) {
      // The journal's directory is part of the data directory: the operator hears about the one they named.
      throw err instanceof DirectoryError ? new DataDirError(config.dataDir, err) : err;
    }
  }
  const memoryStore = journal === undefined ? new MemoryStore() : undefined;
  const store = journal ?? (memoryStore as MemoryStore);
  const broker = new Broker({
    store,
    limits: config.limits,
    logger: logger.child({ component: 'broker' }),
    defaultUser: config.defaultUser,
    loopbackUsers: [...config.loopbackUsers],
    productVersion: VERSION,
  });
  // Below disk_free_limit publishers are blocked, as under the memory alarm; the journal keeps writing.
  if (journal !== undefined) {
    broker.alarms.set('disk', journal.diskLow);
    journal.onDiskAlarm((low) => broker.alarms.set('disk', low));
  }
  let cluster: ClusterMembership | undefined;
  const listeners: Listener[] = [];
  // Readiness: false from the first moment of a shutdown, while the HTTP listeners can still say so.
  let serving = true;
  const tls = new TlsEndpoints(config, logger, broker.limits.handshakeTimeoutMs);
  try {
    onStep('restoring durable state');
    await broker.start();
    if (memoryStore !== undefined) {
      // Before definitions and listeners: what they declare is claimed in the cluster.
      onStep('joining the cluster');
      cluster = await joinCluster(broker, memoryStore, config.cluster, config.amqp.port, logger);
    }
    if (config.loadDefinitions !== null) {
      // After recovery, so the file adds to (or matches) what survived; before listeners, so clients find it.
      onStep('loading definitions');
      const files = await loadDefinitions(broker, config.loadDefinitions);
      logger.info({ path: config.loadDefinitions, files }, 'definitions loaded');
    }
    if (warm) {
      onStep('warming up');
      const journalDir = join(config.dataDir, 'warm-up');
      const { ms, roundTrips } = await warmUp({ limits: config.limits, journalDir }, logger);
      logger.info({ ms, roundTrips }, 'warmed up');
    }
    onStep('opening listeners');
    for (const open of factories) {
      const context = { broker, config, logger, tls, listeners: () => listeners, serving: () => serving };
      const listener = await open({ ...context, journal, cluster: cluster?.node });
      if (listener === undefined) continue;
      listeners.push(listener);
      const { host, port } = listener.address;
      logger.info({ protocol: listener.name, host, port }, 'listening');
    }
  } catch (err) {
    // The cause of the failed start matters more than any trouble cleaning up after it (which stop() logs).
    tls.close();
    await stop({ listeners, broker, journal, cluster, logger, waiting: new Map() }).catch(() => {});
    throw err;
  }
  const { pid, version: node } = process;
  logger.info({ pid, version: VERSION, node, dataDir: config.dataDir }, 'warren started');

  let closing: Promise<void> | undefined;
  const waiting: Waiting = new Map();
  return {
    broker,
    listeners,
    close() {
      serving = false;
      tls.close();
      closing ??= stop({ listeners, broker, journal, cluster, logger, waiting }).then(() =>
        logger.info({}, 'warren stopped'),
      );
      return closing;
    },
    pending: () => [...waiting.values()].map((describe) => describe()),
    reloadTls: (trigger) => tls.reload(trigger),
  };
}

/** What stop() is waiting for, by part; each describes itself when asked, so the figures are current. */
type Waiting = Map<string, () => string>;

function track<T>(waiting: Waiting, part: string, describe: () => string, work: Promise<T>): Promise<T> {
  waiting.set(part, describe);
  return work.finally(() => waiting.delete(part));
}

/**
 * Every protocol listener stops accepting before any connection is closed, so a client told to go cannot
 * reconnect to a port of the same broker. Then they close together: each one waits for its own clients, and
 * none depends on another. The broker closes next, once nothing can publish into it, so its final store flush
 * is really final. The HTTP listeners (lastToClose) close last: until then the readiness checks answer 503,
 * which close() made them say before anything else. Every part is closed even when an earlier one fails.
 */
async function stop(parts: {
  listeners: readonly Listener[];
  broker: Broker;
  journal: Journal | undefined;
  cluster: ClusterMembership | undefined;
  logger: Logger;
  waiting: Waiting;
}): Promise<void> {
  const { listeners, broker, journal, cluster, logger, waiting } = parts;
  const first = listeners.filter((l) => l.lastToClose !== true);
  const last = listeners.filter((l) => l.lastToClose === true);
  for (const listener of first) listener.stopAccepting();
  if (first.length > 0) logger.info({}, 'not accepting new connections');
  const failures = await closeListeners(first, waiting, logger);
  const describeBroker = (): string => {
    if (journal === undefined) return 'broker: its clients closed and its last acks sent to the cluster';
    const unflushed = journal.stats().pendingBatches;
    return `broker: final store flush and journal close (journal batches not yet on disk: ${unflushed})`;
  };
  try {
    await track(waiting, 'broker', describeBroker, broker.close());
  } catch (err) {
    failures.push(err);
    logger.error({ err }, 'broker failed to close');
  }
  if (cluster !== undefined) {
    // After the broker: its closing channels' acks and naks still go to the streams.
    try {
      await track(waiting, 'cluster', () => 'cluster: leaving (NATS connection close)', cluster.leave());
    } catch (err) {
      failures.push(err);
      logger.error({ err }, 'leaving the cluster failed');
    }
  }
  failures.push(...(await closeListeners(last, waiting, logger)));
  if (failures.length > 0) throw new AggregateError(failures, 'warren did not stop cleanly');
}

/** Closes listeners together, each waiting for its own clients; resolves with what failed (logged). */
async function closeListeners(
  listeners: readonly Listener[],
  waiting: Waiting,
  logger: Logger,
): Promise<unknown[]> {
  const results = await Promise.allSettled(
    listeners.map((listener) =>
      track(
        waiting,
        `listener ${listener.name}`,
        () => `${listener.name} listener: its clients' connections to close`,
        listener.close(),
      ),
    ),
  );
  const failures: unknown[] = [];
  results.forEach((result, i) => {
    if (result.status === 'rejected') {
      failures.push(result.reason);
      logger.error({ err: result.reason, protocol: listeners[i]?.name }, 'listener failed to close');
    }
  });
  return failures;
}
