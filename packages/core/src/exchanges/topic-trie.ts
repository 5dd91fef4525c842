/**
 * Topic matching (AMQP 0-9-1 section 3.1.3.3, as RabbitMQ implements it): routing keys and binding keys are
 * words separated by '.'; in a binding key '*' matches exactly one word and '#' zero or more words.
 *
 * Bindings live in a trie keyed by word, with separate edges for '*' and '#', so a publish walks only the
 * branches its words can match instead of testing every binding.
 *
 * Cost of one match: at most (trie nodes) x (words + 1) visits. Trying every split point for each '#' alone
 * is exponential in the number of '#' on a path: "#.a.#.a.#.a.#.b" reaches the same node at the same word
 * from every way of spreading the words over the earlier '#'s. A node's subtree yields the same values
 * whenever it is entered at the same word, and a '#' node is entered only from its parent's split loop,
 * which enters it at every word from its start on; so the words it has been entered at form one suffix, and
 * two numbers on the node (which match, from which word) are the whole memo: no allocation per match, and no
 * work at all on a path without '#'. Every other node is then reached at most once per word too, because
 * below its nearest '#' ancestor each step consumes exactly one word.
 */
class TopicNode<T> {
  readonly words = new Map<string, TopicNode<T>>();
  star: TopicNode<T> | undefined = undefined;
  hash: TopicNode<T> | undefined = undefined;
  readonly values: T[] = [];
  /** On a '#' node: the match (matchNumber) that last entered it, and the lowest word it entered at. */
  enteredIn = 0;
  enteredFrom = 0;

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

  /**
   * Appends the value of every binding matching `routingKey`, once per binding: a value bound under several
   * patterns appears once for each.
   */
  match(routingKey: string, out: T[]): void {
    matchNumber++;
    walk(this.root, splitWords(routingKey), 0, out);
  }
}

/**
 * Numbers the matches, so a '#' node's memo from an earlier match reads as stale without being cleared. One
 * module slot serves every trie: a match runs to completion synchronously and never starts another.
 */
let matchNumber = 0;

function walk<T>(node: TopicNode<T>, words: string[], i: number, out: T[]): void {
  const hash = node.hash;
  if (hash !== undefined) {
    const match = matchNumber;
    // '#' swallows zero or more words: try every split point not already tried in this match.
    let end = words.length;
    if (hash.enteredIn === match) end = hash.enteredFrom - 1;
    else hash.enteredIn = match;
    if (i <= end) {
      hash.enteredFrom = i;
      for (let j = i; j <= end; j++) walk(hash, words, j, out);
    }
  }
  if (i === words.length) {
    for (let k = 0; k < node.values.length; k++) out.push(node.values[k] as T);
    return;
  }
  const next = node.words.get(words[i] as string);
  if (next !== undefined) walk(next, words, i + 1, out);
  if (node.star !== undefined) walk(node.star, words, i + 1, out);
}

/** "a.#.#.b" matches exactly what "a.#.b" does; collapsing spares the walk a '#' level that only repeats. */
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
