import { parseSelector, type SelectorNode } from './parser';
import { evaluate, type SelectorLookup } from './evaluate';

export { SelectorError } from './lexer';
export { parseSelector, type SelectorNode, type SelectorValue } from './parser';
export { evaluate, type SelectorLookup } from './evaluate';

/** A compiled selector: parse once at SUBSCRIBE, test per message. */
export class Selector {
  private readonly root: SelectorNode;

  constructor(readonly text: string) {
    this.root = parseSelector(text);
  }

  /** True only when the selector evaluates to TRUE (FALSE and UNKNOWN both reject). */
  matches(lookup: SelectorLookup): boolean {
    return evaluate(this.root, lookup) === true;
  }
}
