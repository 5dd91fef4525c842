import type { Message } from '../message';
import { Exchange, removeOne, type Binding, type Destination } from './exchange';

/** Routes to every bound destination; routing keys are ignored. */
export class FanoutExchange extends Exchange {
  readonly type = 'fanout';
  private readonly dests: Destination[] = [];

  route(_msg: Message, out: Destination[]): void {
    for (let i = 0; i < this.dests.length; i++) out.push(this.dests[i] as Destination);
  }

  protected onBind(b: Binding): void {
    this.dests.push(b.destination);
  }

  protected onUnbind(b: Binding): void {
    removeOne(this.dests, b.destination);
  }
}
