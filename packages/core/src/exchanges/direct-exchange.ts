import type { Message } from '../message';
import { Exchange, removeOne, type Binding, type Destination } from './exchange';

/** Routes to the bindings whose key equals the routing key: one Map lookup per publish. */
export class DirectExchange extends Exchange {
  readonly type = 'direct';
  private readonly table = new Map<string, Destination[]>();

  route(msg: Message, out: Destination[]): void {
    const dests = this.table.get(msg.routingKey);
    if (dests !== undefined) for (let i = 0; i < dests.length; i++) out.push(dests[i] as Destination);
  }

  protected onBind(b: Binding): void {
    const list = this.table.get(b.routingKey);
    if (list === undefined) this.table.set(b.routingKey, [b.destination]);
    else list.push(b.destination);
  }

  protected onUnbind(b: Binding): void {
    const list = this.table.get(b.routingKey);
    if (list === undefined) return;
    removeOne(list, b.destination);
    if (list.length === 0) this.table.delete(b.routingKey);
  }
}
