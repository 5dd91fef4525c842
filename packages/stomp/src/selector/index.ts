import { parseSelector, type SelectorNode } from './parser';
import { evaluate, type SelectorLookup } from './evaluate';

export { SelectorError } from './lexer';
export { parseSelector, type SelectorNode, type SelectorValue } from './parser';
export { evaluate, type SelectorLookup } from './evaluate';

/** A compiled selector: parse once at SUBSCRIBE, test per message. */
export class Selector {
  private readonly root: SelectorNode;

  /** Throws SelectorError for a selector that does not parse or is longer than `maxLength`. */
  constructor(
    readonly text: string,
    maxLength?: number,
  ) {
    this.root = parseSelector(text, maxLength);
  }

  /** True only when the selector evaluates to TRUE (FALSE and UNKNOWN both reject). */
  matches(lookup: SelectorLookup): boolean {
    return evaluate(this.root, lookup) === true;
  }
}
