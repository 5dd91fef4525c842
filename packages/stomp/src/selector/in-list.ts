import type { SelectorValue } from './parser';
import { asBoolean, asNumber, compare } from './values';

/** Up to this many items a scan with compare() is as quick as hashing the value; past it, Sets answer. */
const SCAN_MAX = 8;

/**
 * The literals of `x IN ( ... )`, answering "does x equal one of them?" with the same coercions as `x = item`
 * (values.ts), so that a long list costs a few Set lookups per message instead of a compare() per item —
 * each of which may run the numeric RegExp over x again.
 *
 * What `x = item` means, by the kinds of x and item: string/string equal text; a number against a string
 * that reads as a number, or a string that reads as a number against a number, equal numbers; a boolean
 * against 'true'/'false' or a boolean, equal booleans; anything against NULL, or a number against a
 * boolean, never equal. The Sets below are those cases, keyed by what x is.
 */
export class InList {
  private readonly strings = new Set<string>();
  private readonly numbers = new Set<number>();
  /** Number(item) of the string items that read as numbers: what a number x equals. */
  private readonly numericStrings = new Set<number>();
  private readonly booleans = new Set<boolean>();

  constructor(readonly items: readonly SelectorValue[]) {
    for (const item of items) {
      if (typeof item === 'string') {
        this.strings.add(item);
        const n = asNumber(item);
        if (n !== null) this.numericStrings.add(n);
      } else if (typeof item === 'number') {
        if (!Number.isNaN(item)) this.numbers.add(item);
      } else if (typeof item === 'boolean') {
        this.booleans.add(item);
      }
    }
  }

  /** Whether `v` (not NULL) equals an item. */
  has(v: string | number | boolean): boolean {
    if (this.items.length <= SCAN_MAX) {
      for (const item of this.items) if (compare(v, item) === 0) return true;
      return false;
    }
    if (typeof v === 'string') {
      if (this.strings.has(v)) return true;
      if (this.numbers.size > 0) {
        const n = asNumber(v);
        if (n !== null && this.numbers.has(n)) return true;
      }
      const b = asBoolean(v);
      return b !== null && this.booleans.has(b);
    }
    if (typeof v === 'number') return this.numbers.has(v) || this.numericStrings.has(v);
    return this.booleans.has(v) || this.strings.has(v ? 'true' : 'false');
  }
}
