import { listenAmqp } from '@warren/amqp';
import { Broker, silentLogger, type Logger } from '@warren/core';
import { Journal, type JournalOptions } from '@warren/journal';
import { listenStomp } from '@warren/stomp';

/** A broker whose store is a journal in `dir`, with AMQP and STOMP listeners on free ports of 127.0.0.1. */
export interface DurableBroker {
  readonly broker: Broker;
  readonly journal: Journal;
  readonly amqpPort: number;
  readonly stompPort: number;
  /** A clean shutdown: listeners first, then the broker, which flushes and closes the journal. */
  close(): Promise<void>;
}

/**
 * Wires a broker the way `warren start --data-dir` is meant to: the journal is opened and recovered, the
 * broker restores from it, and only then do the listeners open.
 */
export async function startDurableBroker(
  dir: string,
  options: Partial<Omit<JournalOptions, 'dir'>> & { logger?: Logger } = {},
): Promise<DurableBroker> {
  const logger = options.logger ?? silentLogger;
  const journal = await Journal.open({ ...options, dir, logger });
  const broker = new Broker({ store: journal, logger });
  await broker.start();
  const amqp = await listenAmqp({ broker, host: '127.0.0.1', port: 0, logger });
  const stomp = await listenStomp({ broker, host: '127.0.0.1', port: 0, logger });
  return {
    broker,
    journal,
    amqpPort: amqp.address.port,
    stompPort: stomp.address.port,
    close: async () => {
      await Promise.all([amqp.close(), stomp.close()]);
      await broker.close();
    },
  };
}
