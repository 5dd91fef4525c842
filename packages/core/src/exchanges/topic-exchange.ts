import type { Message } from '../message';
import { Exchange, type Binding, type Destination, type ExchangeOptions } from './exchange';
import { TopicTrie } from './topic-trie';

/**
 * Topic routing through a trie, with a bounded cache of routing key -> destinations. Publishers tend to reuse
 * a small set of keys, so most publishes are one Map lookup; any bind or unbind clears the cache.
 */
export class TopicExchange extends Exchange {
  readonly type = 'topic';
  private readonly trie = new TopicTrie<Destination>();
  private readonly cache = new Map<string, Destination[]>();

  constructor(
    vhost: string,
    name: string,
    options: ExchangeOptions,
    private readonly cacheSize: number,
  ) {
    super(vhost, name, options);
  }

  route(msg: Message, out: Destination[]): void {
    let dests = this.cache.get(msg.routingKey);
    if (dests === undefined) {
      dests = [];
      this.trie.match(msg.routingKey, dests);
      if (this.cache.size >= this.cacheSize) {
        // FIFO eviction: Map iterates in insertion order, so the first key is the oldest.
        this.cache.delete(this.cache.keys().next().value as string);
      }
      if (this.cacheSize > 0) this.cache.set(msg.routingKey, dests);
    }
    for (let i = 0; i < dests.length; i++) out.push(dests[i] as Destination);
  }

  protected onBind(b: Binding): void {
    this.trie.add(b.routingKey, b.destination);
    this.cache.clear();
  }

  protected onUnbind(b: Binding): void {
    this.trie.remove(b.routingKey, b.destination);
    this.cache.clear();
  }
}
