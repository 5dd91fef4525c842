import type { Limits } from './limits';
import type { Logger } from './logger';
import type { Message } from './message';
import type { DeadLetterCounters } from './metrics';
import type { Persistence } from './persistence';
import type { Queue } from './queue';

/** The accounting of message bodies held in memory (the broker's MemoryMonitor): it drives the memory alarm. */
export interface BodyAccounting {
  add(msg: Message): void;
  remove(msg: Message): void;
}

/**
 * Everything a queue needs beyond itself: the clock, the limits, the store, the memory accounting, a logger and
 * counters, and its vhost's routing for dead letters and removal. A Vhost is one, passing its broker's through;
 * a queue reaches nothing else, so a queue kept elsewhere (a replicated queue of a cluster) can be a sibling of
 * the local one with a host of its own.
 */
export interface QueueHost {
  /** The vhost's name, as log lines and store keys show it. */
  readonly name: string;
  now(): number;
  readonly limits: Readonly<Limits>;
  readonly persistence: Persistence;
  readonly memory: BodyAccounting;
  readonly logger: Logger;
  /** Messages that died in a queue, by dead-letter strategy and reason. */
  readonly deadLettered: DeadLetterCounters;
  /** One of a queue's own callbacks (a timer, a store read coming back) threw; it was logged and contained. */
  queueFault(): void;
  /** Deletes the queue (auto-delete, x-expires); returns the ready messages it dropped. */
  removeQueue(q: Queue): number;
  /** Routes a dead letter from the vhost's exchange named in it. */
  publishDeadLetter(msg: Message): void;
}
