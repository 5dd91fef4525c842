/*
 * LIKE patterns (JMS 2.0 "Message selector syntax", SQL-92 8.5 <like predicate>):
 *
 *   pattern = *( "%" | "_" | escape-char any-char | any-char )
 *
 * '%' stands for any sequence of characters (none included), '_' for exactly one, and the ESCAPE character
 * makes the character after it literal. Characters are code points, as the 'u' RegExp this replaced counted
 * them: '_' matches one emoji, not half of one. An ESCAPE character at the very end has nothing to escape
 * and stands for itself, as it did with the RegExp.
 *
 * Matching is the greedy two-pointer wildcard algorithm rather than a RegExp. A backtracking engine given
 * '%a%a%a%a%b' (`^[\s\S]*a[\s\S]*a...b$`) against a long value of a's tries every way of spreading the a's
 * over the '%'s. Here the only backtrack is to the last '%' seen, letting it swallow one more character: an
 * earlier '%' never needs to swallow more, since whatever it could take the later '%' can take instead. So a
 * match costs at most (value length + 1) x (pattern length + 1) steps, and the selector length bound
 * (limits.selectorMaxLength) bounds the pattern.
 */

/** A token of a compiled pattern: a code point (>= 0), or one of these. */
const ONE = -1;
const ANY = -2;

export class LikePattern {
  /** Code points and wildcards; runs of '%' collapsed to one, since "%%" matches what "%" does. */
  private readonly tokens: Int32Array;

  constructor(pattern: string, escape: string | undefined) {
    const tokens: number[] = [];
    let escaped = false;
    for (const ch of pattern) {
      const cp = ch.codePointAt(0) as number;
      if (escaped) {
        tokens.push(cp);
        escaped = false;
      } else if (ch === escape) {
        escaped = true;
      } else if (ch === '%') {
        if (tokens[tokens.length - 1] !== ANY) tokens.push(ANY);
      } else {
        tokens.push(ch === '_' ? ONE : cp);
      }
    }
    if (escaped) {
      // A trailing escape escapes nothing; it is read like any other character of the pattern.
      const e = escape as string;
      if (e === '%') {
        if (tokens[tokens.length - 1] !== ANY) tokens.push(ANY);
      } else tokens.push(e === '_' ? ONE : (e.codePointAt(0) as number));
    }
    this.tokens = Int32Array.from(tokens);
  }

  matches(value: string): boolean {
    const tokens = this.tokens;
    const m = tokens.length;
    const n = value.length;
    let p = 0;
    let s = 0;
    // Where the last '%' was, and where in the value what follows it is being tried.
    let starP = -1;
    let starS = 0;
    while (s < n) {
      if (p < m) {
        const t = tokens[p] as number;
        if (t === ANY) {
          // A '%' that ends the pattern matches whatever is left.
          if (p + 1 === m) return true;
          starP = p++;
          starS = s;
          continue;
        }
        const c = value.codePointAt(s) as number;
        if (t === ONE || t === c) {
          s += c > 0xffff ? 2 : 1;
          p++;
          continue;
        }
      }
      if (starP < 0) return false;
      // Mismatch after a '%': let it swallow one more character and retry the rest of the pattern there.
      starS += (value.codePointAt(starS) as number) > 0xffff ? 2 : 1;
      s = starS;
      p = starP + 1;
    }
    while (p < m && tokens[p] === ANY) p++;
    return p === m;
  }
}
