import type { Message } from '../message';
import { Exchange, type Binding, type Destination, type ExchangeOptions } from './exchange';
import { TopicTrie } from './topic-trie';

/**
 * Topic routing through a trie, with a bounded cache of routing key -> destinations. Publishers tend to reuse
 * a small set of keys, so most publishes are one Map lookup; any bind or unbind clears the cache.
 *
 * The cache has two generations: when the young one fills, it becomes the old one and the previous old one is
 * dropped; a hit in the old generation is promoted. That bounds memory at `cacheSize` entries with O(1) work
 * per miss. (Evicting the oldest key of one Map with keys().next() looks O(1) but is not: V8 leaves deleted
 * slots in place until a rehash, and the iterator walks over them, which measured 2 us per miss.)
 */
export class TopicExchange extends Exchange {
  readonly type = 'topic';
  private readonly trie = new TopicTrie<Destination>();
  private young = new Map<string, Destination[]>();
  private old = new Map<string, Destination[]>();

  constructor(
    vhost: string,
    name: string,
    options: ExchangeOptions,
    private readonly cacheSize: number,
  ) {
    super(vhost, name, options);
  }

  route(msg: Message, out: Destination[]): void {
    const key = msg.routingKey;
    let dests = this.young.get(key);
    if (dests === undefined) {
      dests = this.old.get(key);
      if (dests === undefined) {
        dests = [];
        this.trie.match(key, dests);
      }
      this.remember(key, dests);
    }
    for (let i = 0; i < dests.length; i++) out.push(dests[i] as Destination);
  }

  protected onBind(b: Binding): void {
    this.trie.add(b.routingKey, b.destination);
    this.forget();
  }

  protected onUnbind(b: Binding): void {
    this.trie.remove(b.routingKey, b.destination);
    this.forget();
  }

  private remember(key: string, dests: Destination[]): void {
    if (this.cacheSize === 0) return;
    if (this.young.size >= this.cacheSize >>> 1) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, dests);
  }

  private forget(): void {
    if (this.young.size > 0) this.young = new Map();
    if (this.old.size > 0) this.old = new Map();
  }
}
