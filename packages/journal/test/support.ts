import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger, MessageStore, RecoveredState, StoreOp, StoredMessage } from '@warren/core';
import { Journal, type JournalOptions } from '@warren/journal';

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'warren-journal-'));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function openJournal(dir: string, options: Partial<JournalOptions> = {}): Promise<Journal> {
  return Journal.open({ dir, fsync: false, ...options });
}

/** Writes one batch and resolves when the store calls it durable. */
export function writeDurable(store: MessageStore, ops: StoreOp[]): Promise<void> {
  return new Promise((resolve) => store.write(ops, resolve));
}

/** RecoveredState in a comparable shape: queues sorted by key, empty queues left out. */
export function normalize(s: RecoveredState): unknown {
  const queues = [...s.messages.entries()]
    .filter(([, list]) => list.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { topology: s.topology, queues, maxMessageId: s.maxMessageId };
}

export function message(id: number, body: string | Buffer, headers?: Record<string, string>): StoredMessage {
  return {
    id,
    exchange: 'amq.direct',
    routingKey: 'rk',
    properties: headers === undefined ? { deliveryMode: 2 } : { deliveryMode: 2, headers },
    body: typeof body === 'string' ? Buffer.from(body) : body,
  };
}

export const Q = (name: string): string => `/\u0000${name}`;

/** A logger that keeps what it was told, to check what recovery reports. */
export function recordingLogger(): Logger & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const make = (): Logger & { lines: typeof lines } => ({
    lines,
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
    child: () => make(),
  });
  return make();
}
