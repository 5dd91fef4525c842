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
 *
 * In a cluster, as in RabbitMQ's, a memory or disk alarm on any node blocks the publishers of every node: the
 * other nodes' alarms are set here with setRemote (and cleared when that node clears them or is gone).
 */
export class ResourceAlarms {
  private readonly raised = new Set<AlarmResource>();
  /** Other nodes' memory and disk alarms, by node name. */
  private readonly remote = new Map<string, ReadonlySet<AlarmResource>>();
  private readonly listeners = new Set<AlarmListener>();

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  /** Whether publishers are blocked now. */
  get blocked(): boolean {
    return this.raised.size > 0 || this.remote.size > 0;
  }

  /**
   * RabbitMQ's connection.blocked reason: 'low on memory', 'low on disk', 'low on memory & disk'; a cluster
   * node without NATS says 'cluster unreachable' (after the low-on part when both hold).
   */
  get reason(): string {
    const low = RESOURCES.filter((r) => this.raised.has(r) || this.raisedElsewhere(r));
    const parts = low.length > 0 ? [`low on ${low.join(' & ')}`] : [];
    if (this.raised.has('cluster')) parts.push('cluster unreachable');
    return parts.join('; ');
  }

  /** Whether this node's own alarm for `resource` is raised. */
  isRaised(resource: AlarmResource): boolean {
    return this.raised.has(resource);
  }

  /** This node's own memory and disk alarms, for the other nodes of a cluster. */
  get localResources(): AlarmResource[] {
    return RESOURCES.filter((r) => this.raised.has(r));
  }

  set(resource: AlarmResource, raised: boolean): void {
    const before = this.blocked;
    if (raised) this.raised.add(resource);
    else this.raised.delete(resource);
    this.changed(before);
  }

  /** Another node's memory and disk alarms as it last told them; none (or an empty list) clears them. */
  setRemote(node: string, resources: readonly AlarmResource[] = []): void {
    const before = this.blocked;
    const kept = resources.filter((r) => RESOURCES.includes(r));
    if (kept.length > 0) this.remote.set(node, new Set(kept));
    else this.remote.delete(node);
    this.changed(before);
  }

  /** The nodes whose alarms block this node's publishers now. */
  get remoteNodes(): string[] {
    return [...this.remote.keys()];
  }

  private raisedElsewhere(resource: AlarmResource): boolean {
    for (const set of this.remote.values()) if (set.has(resource)) return true;
    return false;
  }

  private changed(before: boolean): void {
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
