import fc from 'fast-check';
import { TopicTrie } from '@warren/core';

/** The obvious recursive definition of topic matching: the reference the trie must agree with. */
function referenceMatch(pattern: string[], key: string[]): boolean {
  if (pattern.length === 0) return key.length === 0;
  const [head, ...rest] = pattern;
  if (head === '#') {
    for (let i = 0; i <= key.length; i++) if (referenceMatch(rest, key.slice(i))) return true;
    return false;
  }
  if (key.length === 0) return false;
  return (head === '*' || head === key[0]) && referenceMatch(rest, key.slice(1));
}

/** The same definition as a table (pattern prefix x key prefix), for keys too long for the recursion. */
function tableMatch(pattern: string[], key: string[]): boolean {
  // ok[j] after row i: whether pattern[0..i) matches key[0..j).
  let ok = key.map(() => false).concat(false);
  ok[0] = true;
  for (const head of pattern) {
    const next = ok.map(() => false);
    for (let j = 0; j <= key.length; j++) {
      if (head === '#') next[j] = ok[j] === true || (j > 0 && next[j - 1] === true);
      else next[j] = j > 0 && ok[j - 1] === true && (head === '*' || head === key[j - 1]);
    }
    ok = next;
  }
  return ok[key.length] === true;
}

const words = (key: string): string[] => (key === '' ? [] : key.split('.'));

/** Runs one match and returns the values found, in the order the trie reported them. */
function matchAll<T>(trie: TopicTrie<T>, key: string): T[] {
  const got: T[] = [];
  trie.match(key, got);
  return got;
}

const keyArb = fc.array(fc.constantFrom('a', 'b', 'c', ''), { maxLength: 6 }).map((w) => w.join('.'));
const patternArb = fc
  .array(fc.constantFrom('a', 'b', '*', '#', ''), { maxLength: 6 })
  .map((w) => w.join('.'));

describe('topic matching', () => {
  test('the trie matches exactly the bindings the reference matcher does, for any bindings and key', () => {
    fc.assert(
      fc.property(
        fc.array(patternArb, { maxLength: 12 }),
        fc.array(keyArb, { minLength: 1, maxLength: 8 }),
        (patterns, keys) => {
          const trie = new TopicTrie<number>();
          patterns.forEach((p, i) => trie.add(p, i));
          for (const key of keys) {
            const got: number[] = [];
            trie.match(key, got);
            const expected = patterns.flatMap((p, i) => (referenceMatch(words(p), words(key)) ? [i] : []));
            expect([...new Set(got)].sort((x, y) => x - y)).toEqual(expected);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test('removing bindings leaves exactly the remaining ones matching, and an empty trie', () => {
    fc.assert(
      fc.property(
        fc.array(patternArb, { maxLength: 10 }),
        fc.array(fc.boolean(), { maxLength: 10 }),
        keyArb,
        (patterns, drop, key) => {
          const trie = new TopicTrie<number>();
          patterns.forEach((p, i) => trie.add(p, i));
          patterns.forEach((p, i) => {
            if (drop[i] === true) expect(trie.remove(p, i)).toBe(true);
          });
          const got: number[] = [];
          trie.match(key, got);
          const expected = patterns.flatMap((p, i) =>
            drop[i] !== true && referenceMatch(words(p), words(key)) ? [i] : [],
          );
          expect([...new Set(got)].sort((x, y) => x - y)).toEqual(expected);
          patterns.forEach((p, i) => {
            if (drop[i] !== true) trie.remove(p, i);
          });
          expect(trie.size).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
  test('patterns crowded with # and * match exactly what the reference matcher says, each binding once', () => {
    const crowdedPattern = fc
      .array(fc.constantFrom('a', 'b', '*', '#', '#', '#'), { maxLength: 10 })
      .map((w) => w.join('.'));
    const longKey = fc.array(fc.constantFrom('a', 'b'), { maxLength: 10 }).map((w) => w.join('.'));
    fc.assert(
      fc.property(
        fc.array(crowdedPattern, { maxLength: 12 }),
        fc.array(longKey, { minLength: 1, maxLength: 6 }),
        (patterns, keys) => {
          const trie = new TopicTrie<number>();
          patterns.forEach((p, i) => trie.add(p, i));
          for (const key of keys) {
            const got = matchAll(trie, key);
            const expected = patterns.flatMap((p, i) => (referenceMatch(words(p), words(key)) ? [i] : []));
            // Every binding has its own value, so any repeat would be the walk reaching a node twice.
            expect([...got].sort((x, y) => x - y)).toEqual(expected);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test('a binding full of # against a 255-byte key of 128 words completes with the right answer', () => {
    const trie = new TopicTrie<string>();
    const patterns = [
      '#.a.#.a.#.a.#.a.#.b',
      '#.a.#.a.#.a.#.a.#.a.#.a.#.a.#.a.#',
      '#.*.#.*.#.*.#.*.#.*.#.*.#.*.#.b',
      '*.#.*.#.*.#.*.#.*.#.*.#.*.#.*',
      `${'#.a.'.repeat(40)}#`,
      `${'#.*.'.repeat(40)}#.b`,
    ];
    for (const p of patterns) trie.add(p, p);
    const allA = Array.from({ length: 128 }, () => 'a').join('.');
    const endsInB = `${allA.slice(0, -1)}b`;
    expect(allA.length).toBe(255);
    for (const key of [allA, endsInB]) {
      const expected = patterns.filter((p) => tableMatch(words(p), words(key)));
      expect(matchAll(trie, key).sort()).toEqual(expected.sort());
    }
    // The table agrees with the intent of the patterns: the 'b' ones need the key to end in b.
    expect(matchAll(trie, allA).sort()).toEqual([patterns[1], patterns[3], patterns[4]].map(String).sort());
  });

  test('many # bindings sharing one trie, against many long keys, agree with the table reference', () => {
    const crowdedPattern = fc
      .array(fc.constantFrom('a', 'b', '*', '#'), { minLength: 1, maxLength: 24 })
      .map((w) => w.join('.'));
    const key = fc.array(fc.constantFrom('a', 'b'), { maxLength: 128 }).map((w) => w.join('.'));
    fc.assert(
      fc.property(fc.array(crowdedPattern, { maxLength: 30 }), fc.array(key, { maxLength: 5 }), (ps, ks) => {
        const trie = new TopicTrie<number>();
        ps.forEach((p, i) => trie.add(p, i));
        for (const k of ks) {
          const expected = ps.flatMap((p, i) => (tableMatch(words(p), words(k)) ? [i] : []));
          expect(matchAll(trie, k).sort((x, y) => x - y)).toEqual(expected);
        }
      }),
      { numRuns: 200 },
    );
  });
});
