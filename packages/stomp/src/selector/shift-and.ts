/*
 * Shift-And (Baeza-Yates & Gonnet, 1992): finds the leftmost occurrence of a fixed-length pattern of
 * literals and one-character wildcards in a text, reading each text character once and updating one bit per
 * pattern position, 32 at a time. Bit i of the state says "pattern positions 0..i match the text ending
 * here"; each character shifts the state up by one, starts a new match at bit 0, and keeps only the
 * positions that accept the character.
 *
 * LIKE uses it for segments that mix '_' with literals ('%_a_a_a...b%'), which indexOf cannot search for and
 * which a try-at-every-start scan takes (text x segment) steps for: about 1.2 s for 4,000 tokens in 64 KiB.
 * This costs (text) x (segment / 32 + 32) instead.
 *
 * Memory stays near the segment's own size: a character's acceptance mask is kept whole ("dense") only when
 * it occurs at 32 positions or more (so at most segment/32 such masks) or the segment is short; a rarer
 * character keeps the list of its positions, at most 31, applied one by one.
 */

/** The token for '_': any one character. Literals are code points (>= 0). */
export const ONE = -1;

/** Up to this many words, every literal gets a dense mask: 4 x 32 bits x (at most 128 literals). */
const ALL_DENSE_WORDS = 4;
const DENSE_OCCURRENCES = 32;

export class ShiftAnd {
  private readonly words: number;
  /** Positions holding '_'; the acceptance mask of a character the segment does not name. */
  private readonly ones: Int32Array;
  private readonly dense = new Map<number, Int32Array>();
  private readonly sparse = new Map<number, Int32Array>();
  /** Scratch, reused by every search: searches run to completion, one at a time. */
  private readonly state: Int32Array;
  private readonly hits = new Int32Array(DENSE_OCCURRENCES);
  private readonly lastWord: number;
  private readonly lastBit: number;

  constructor(tokens: readonly number[]) {
    const words = (tokens.length + 31) >>> 5;
    this.words = words;
    this.ones = new Int32Array(words);
    this.state = new Int32Array(words);
    this.lastWord = (tokens.length - 1) >>> 5;
    this.lastBit = 1 << ((tokens.length - 1) & 31);
    const positions = new Map<number, number[]>();
    tokens.forEach((t, i) => {
      if (t === ONE) {
        this.ones[i >>> 5] = (this.ones[i >>> 5] as number) | (1 << (i & 31));
        return;
      }
      let list = positions.get(t);
      if (list === undefined) positions.set(t, (list = []));
      list.push(i);
    });
    for (const [cp, list] of positions) {
      if (words <= ALL_DENSE_WORDS || list.length >= DENSE_OCCURRENCES) {
        const mask = Int32Array.from(this.ones);
        for (const p of list) mask[p >>> 5] = (mask[p >>> 5] as number) | (1 << (p & 31));
        this.dense.set(cp, mask);
      } else {
        this.sparse.set(cp, Int32Array.from(list));
      }
    }
  }

  /**
   * Where the leftmost occurrence starting at or after `from` and ending by `limit` ends, or -1. All
   * occurrences have as many characters as there are tokens, so the first to end is the leftmost.
   */
  find(value: string, from: number, limit: number): number {
    const state = this.state;
    const words = this.words;
    const hits = this.hits;
    state.fill(0);
    for (let s = from; s < limit;) {
      const c = value.codePointAt(s) as number;
      s += c > 0xffff ? 2 : 1;
      // Positions of a rare character continue the match of the positions before them, read before the
      // shift overwrites them.
      let hitCount = 0;
      const list = this.sparse.get(c);
      if (list !== undefined) {
        for (let k = 0; k < list.length; k++) {
          const p = list[k] as number;
          if (p === 0 || ((state[(p - 1) >>> 5] as number) >>> ((p - 1) & 31)) & 1) hits[hitCount++] = p;
        }
      }
      const mask = this.dense.get(c) ?? this.ones;
      for (let w = words - 1; w > 0; w--) {
        state[w] = (((state[w] as number) << 1) | ((state[w - 1] as number) >>> 31)) & (mask[w] as number);
      }
      state[0] = (((state[0] as number) << 1) | 1) & (mask[0] as number);
      for (let k = 0; k < hitCount; k++) {
        const p = hits[k] as number;
        state[p >>> 5] = (state[p >>> 5] as number) | (1 << (p & 31));
      }
      if ((state[this.lastWord] as number) & this.lastBit) return s;
    }
    return -1;
  }
}
