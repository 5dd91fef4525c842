import { resolveLimits, type Limits } from './limits';

export interface BrokerOptions {
  limits?: Partial<Limits>;
}

/** The root of the routing core. (Filled in by the core commits that follow.) */
export class Broker {
  readonly limits: Limits;

  constructor(options: BrokerOptions = {}) {
    this.limits = resolveLimits(options.limits);
  }

  /** Restores durable state from the store; resolves before any listener should open. */
  async start(): Promise<void> {}

  /** Closes every connection and flushes the store. */
  async close(): Promise<void> {}
}
