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

const words = (key: string): string[] => (key === '' ? [] : key.split('.'));

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
});
