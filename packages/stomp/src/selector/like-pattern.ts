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
 * Matching is greedy and by hand rather than by RegExp. A backtracking engine given '%a%a%a%a%b'
 * (`^[\s\S]*a[\s\S]*a...b$`) against a long value of a's tries every way of spreading the a's over the
 * '%'s. Instead the pattern is cut at its '%'s into segments of fixed length (literals and '_'): the first
 * must match at the start, the last at the end, and each one between at its leftmost place after the one
 * before. Leftmost is always safe: every occurrence of a segment has as many characters as any other, so
 * the leftmost ends first and leaves the most room for the rest. No choice is ever revisited, so a match
 * costs at most (value length) x (pattern length) steps, and the selector length bound
 * (limits.selectorMaxLength) bounds the pattern. A segment of literals only is found with
 * String.prototype.indexOf, which is native and far below that bound in practice ('%error%' over a log line
 * is one indexOf), and one of '_'s only is just a number of characters to skip. A long segment mixing the
 * two ('%_a_a_a...b%') is searched with Shift-And (shift-and.ts), 32 positions per step, since trying it at
 * every start took about 1.2 s for 4,000 tokens against 64 KiB of a's; a short one is simply tried at every
 * start, which costs no more than its length per start.
 */
import { ONE, ShiftAnd } from './shift-and';

/** Segments up to this many tokens are tried at every start rather than run through Shift-And. */
const SCAN_MAX_TOKENS = 16;

/** Literals and '_' between two '%' (or a '%' and an end of the pattern). */
class Segment {
  /** The literal text, when the segment has no '_' and can be found with indexOf (see find()). */
  readonly text: string | undefined;
  /** Whether the segment is '_'s only: a run of that many code points, found wherever there is room. */
  readonly anything: boolean;
  /** UTF-16 code units any match of the segment has at least. */
  readonly minLength: number;
  /** For a long segment that needs a token-by-token search. */
  private readonly shiftAnd: ShiftAnd | undefined;

  constructor(readonly tokens: readonly number[]) {
    let text: string | undefined = '';
    let anything = true;
    let minLength = 0;
    for (const t of tokens) {
      minLength += t > 0xffff ? 2 : 1;
      if (t !== ONE) anything = false;
      // A lone surrogate could be found by indexOf inside a surrogate pair of the value, where a code point
      // comparison would not see it: such segments go the token way.
      if (t === ONE || (t >= 0xd800 && t <= 0xdfff)) text = undefined;
      else if (text !== undefined) text += String.fromCodePoint(t);
    }
    this.text = text;
    this.anything = anything;
    this.minLength = minLength;
    this.shiftAnd =
      text === undefined && !anything && tokens.length > SCAN_MAX_TOKENS ? new ShiftAnd(tokens) : undefined;
  }

  /** Where the segment ends when matched at `s` without passing `limit`, or -1. */
  matchAt(value: string, s: number, limit: number): number {
    for (const t of this.tokens) {
      if (s >= limit) return -1;
      const c = value.codePointAt(s) as number;
      if (t !== ONE && t !== c) return -1;
      s += c > 0xffff ? 2 : 1;
    }
    return s;
  }

  /** Where the leftmost occurrence starting at or after `from` and ending by `limit` ends, or -1. */
  find(value: string, from: number, limit: number): number {
    const text = this.text;
    if (text !== undefined) {
      const at = value.indexOf(text, from);
      return at < 0 || at + text.length > limit ? -1 : at + text.length;
    }
    if (this.anything) return this.matchAt(value, from, limit);
    if (this.shiftAnd !== undefined) return this.shiftAnd.find(value, from, limit);
    // No start closer to the limit than the segment's shortest match can succeed.
    const last = limit - this.minLength;
    for (let s = from; s <= last; s += (value.codePointAt(s) as number) > 0xffff ? 2 : 1) {
      const end = this.matchAt(value, s, limit);
      if (end >= 0) return end;
    }
    return -1;
  }
}

export class LikePattern {
  /** Before the first '%'; the whole pattern when it has no '%'. */
  private readonly head: Segment;
  /** Between '%'s, in order; never empty segments, since "%%" matches what "%" does. */
  private readonly middle: readonly Segment[];
  /** After the last '%'; undefined when the pattern has no '%'. */
  private readonly tail: Segment | undefined;
  /** UTF-16 code units any matching value has at least: a quick refusal of values too short. */
  private readonly minLength: number;

  constructor(pattern: string, escape: string | undefined) {
    const segments: number[][] = [[]];
    let current = segments[0] as number[];
    const add = (ch: string): void => {
      if (ch === '%') {
        if (current.length > 0 || segments.length === 1) segments.push((current = []));
      } else current.push(ch === '_' ? ONE : (ch.codePointAt(0) as number));
    };
    let escaped = false;
    for (const ch of pattern) {
      if (escaped) {
        current.push(ch.codePointAt(0) as number);
        escaped = false;
      } else if (ch === escape) {
        escaped = true;
      } else add(ch);
    }
    // A trailing escape escapes nothing; it is read like any other character of the pattern.
    if (escaped) add(escape as string);
    this.head = new Segment(segments[0] as number[]);
    this.tail = segments.length > 1 ? new Segment(segments[segments.length - 1] as number[]) : undefined;
    this.middle = segments.slice(1, -1).map((tokens) => new Segment(tokens));
    this.minLength = [this.head, ...this.middle, this.tail].reduce(
      (sum, seg) => sum + (seg?.minLength ?? 0),
      0,
    );
  }

  matches(value: string): boolean {
    const n = value.length;
    if (n < this.minLength) return false;
    let pos = this.head.matchAt(value, 0, n);
    if (pos < 0) return false;
    const tail = this.tail;
    if (tail === undefined) return pos === n;
    // The tail is as many code points as it has tokens, so where it must start is known from the end.
    let end = n;
    for (let k = 0; k < tail.tokens.length; k++) {
      end -=
        end >= 2 && isLowSurrogate(value.charCodeAt(end - 1)) && isHighSurrogate(value.charCodeAt(end - 2))
          ? 2
          : 1;
    }
    if (end < pos || tail.matchAt(value, end, n) !== n) return false;
    for (const segment of this.middle) {
      pos = segment.find(value, pos, end);
      if (pos < 0) return false;
    }
    return true;
  }
}

function isHighSurrogate(u: number): boolean {
  return u >= 0xd800 && u <= 0xdbff;
}

function isLowSurrogate(u: number): boolean {
  return u >= 0xdc00 && u <= 0xdfff;
}
