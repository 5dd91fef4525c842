/**
 * The resources whose alarm blocks publishers, as RabbitMQ's memory and disk alarms do; 'cluster' is a cluster
 * node's lost connection to its NATS servers (it cannot confirm what it cannot replicate).
 */
export type AlarmResource = 'memory' | 'disk' | 'cluster';
const RESOURCES: readonly AlarmResource[] = ['memory', 'disk'];

export type AlarmListener = (blocked: boolean) => void;

/**
 * The broker's resource alarms. While any is raised, protocols stop reading from connections that publish
 * (AMQP sends connection.blocked with `reason`); consumers carry on, so queues can drain. Listeners hear only
 * the transitions of the whole set: raised -> clear and clear -> raised, not each resource.
 */
export class ResourceAlarms {
  private readonly raised = new Set<AlarmResource>();
  private readonly listeners = new Set<AlarmListener>();

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  /** Whether publishers are blocked now. */
  get blocked(): boolean {
    return this.raised.size > 0;
  }

  /**
   * RabbitMQ's connection.blocked reason: 'low on memory', 'low on disk', 'low on memory & disk'; a cluster
   * node without NATS says 'cluster unreachable' (after the low-on part when both hold).
   */
  get reason(): string {
    const low = RESOURCES.filter((r) => this.raised.has(r));
    const parts = low.length > 0 ? [`low on ${low.join(' & ')}`] : [];
    if (this.raised.has('cluster')) parts.push('cluster unreachable');
    return parts.join('; ');
  }

  isRaised(resource: AlarmResource): boolean {
    return this.raised.has(resource);
  }

  set(resource: AlarmResource, raised: boolean): void {
    const before = this.blocked;
    if (raised) this.raised.add(resource);
    else this.raised.delete(resource);
    if (this.blocked === before) return;
    // Listeners are connections; one that throws must not keep the others blocked (or unblocked).
    for (const l of this.listeners) {
      try {
        l(this.blocked);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  /** Calls `listener(blocked)` on every transition; returns the unsubscribe function. */
  onChange(listener: AlarmListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
