/**
 * Topic matching (AMQP 0-9-1 section 3.1.3.3, as RabbitMQ implements it): routing keys and binding keys are
 * words separated by '.'; in a binding key '*' matches exactly one word and '#' zero or more words.
 *
 * Bindings live in a trie keyed by word, with separate edges for '*' and '#', so a publish walks only the
 * branches its words can match instead of testing every binding.
 */
class TopicNode<T> {
  readonly words = new Map<string, TopicNode<T>>();
  star: TopicNode<T> | undefined = undefined;
  hash: TopicNode<T> | undefined = undefined;
  readonly values: T[] = [];

  isEmpty(): boolean {
    return (
      this.values.length === 0 && this.words.size === 0 && this.star === undefined && this.hash === undefined
    );
  }
}

export class TopicTrie<T> {
  private readonly root = new TopicNode<T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(pattern: string, value: T): void {
    let node = this.root;
    for (const word of normalize(pattern)) {
      if (word === '*') node = node.star ??= new TopicNode<T>();
      else if (word === '#') node = node.hash ??= new TopicNode<T>();
      else {
        let next = node.words.get(word);
        if (next === undefined) node.words.set(word, (next = new TopicNode<T>()));
        node = next;
      }
    }
    node.values.push(value);
    this.count++;
  }

  remove(pattern: string, value: T): boolean {
    const path: [TopicNode<T>, string][] = [];
    let node: TopicNode<T> | undefined = this.root;
    for (const word of normalize(pattern)) {
      path.push([node, word]);
      node = word === '*' ? node.star : word === '#' ? node.hash : node.words.get(word);
      if (node === undefined) return false;
    }
    const i = node.values.indexOf(value);
    if (i < 0) return false;
    node.values.splice(i, 1);
    this.count--;
    // Prune empty branches so a churn of short-lived bindings does not leave a trie of dead nodes.
    for (let j = path.length - 1; j >= 0 && node.isEmpty(); j--) {
      const [parent, word] = path[j] as [TopicNode<T>, string];
      if (word === '*') parent.star = undefined;
      else if (word === '#') parent.hash = undefined;
      else parent.words.delete(word);
      node = parent;
    }
    return true;
  }

  /** Appends the value of every binding matching `routingKey` (a value may appear more than once). */
  match(routingKey: string, out: T[]): void {
    walk(this.root, splitWords(routingKey), 0, out);
  }
}

function walk<T>(node: TopicNode<T>, words: string[], i: number, out: T[]): void {
  if (node.hash !== undefined) {
    // '#' swallows zero or more words: try every split point.
    for (let j = i; j <= words.length; j++) walk(node.hash, words, j, out);
  }
  if (i === words.length) {
    for (let k = 0; k < node.values.length; k++) out.push(node.values[k] as T);
    return;
  }
  const next = node.words.get(words[i] as string);
  if (next !== undefined) walk(next, words, i + 1, out);
  if (node.star !== undefined) walk(node.star, words, i + 1, out);
}

/** "a.#.#.b" matches exactly what "a.#.b" does; collapsing keeps the '#' walk from going exponential. */
function normalize(pattern: string): string[] {
  const words = splitWords(pattern);
  const out: string[] = [];
  for (const w of words) if (!(w === '#' && out[out.length - 1] === '#')) out.push(w);
  return out;
}

/** RabbitMQ splits "" into no words at all (so '*' does not match it, '#' does) and "a..b" into three. */
function splitWords(key: string): string[] {
  return key === '' ? [] : key.split('.');
}
