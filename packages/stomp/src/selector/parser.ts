/*
 * JMS selector grammar (JMS 2.0 "Message selector syntax"), by precedence, loosest first:
 *
 *   selector    = or-expr end
 *   or-expr     = and-expr *( OR and-expr )
 *   and-expr    = not-expr *( AND not-expr )
 *   not-expr    = NOT not-expr | predicate
 *   predicate   = sum [ cmp-op sum
 *                     | [NOT] BETWEEN sum AND sum
 *                     | [NOT] IN "(" literal *( "," literal ) ")"
 *                     | [NOT] LIKE string [ ESCAPE string ]
 *                     | IS [NOT] NULL ]
 *   sum         = product *( ("+" | "-") product )
 *   product     = unary *( ("*" | "/") unary )
 *   unary       = ("+" | "-") unary | primary
 *   primary     = literal | identifier | "(" or-expr ")"
 *   literal     = string | number | TRUE | FALSE | NULL
 */
import { DEFAULT_LIMITS } from '@warren/core';
import { SelectorError, tokenize, type Token } from './lexer';
import { InList } from './in-list';
import { LikePattern } from './like-pattern';

export type SelectorValue = string | number | boolean | null;

export type SelectorNode =
  | { readonly t: 'lit'; readonly v: SelectorValue }
  | { readonly t: 'id'; readonly name: string }
  | { readonly t: 'not'; readonly e: SelectorNode }
  // A chain (a OR b OR c, a + b - c) is one node with its operands in a list, not a left-deep tree: chains
  // are not nesting and MAX_DEPTH does not bound them, so a tree would let the selector's length choose how
  // deep evaluate() recurses (a 10 KB "a + a + ... " overflowed the stack on the first message).
  | { readonly t: 'and' | 'or'; readonly operands: readonly SelectorNode[] }
  | { readonly t: 'cmp'; readonly op: string; readonly l: SelectorNode; readonly r: SelectorNode }
  | {
      readonly t: 'arith';
      /** ops[i] combines the value so far with operands[i + 1]. */
      readonly ops: readonly string[];
      readonly operands: readonly SelectorNode[];
    }
  | { readonly t: 'neg'; readonly e: SelectorNode }
  | {
      readonly t: 'between';
      readonly e: SelectorNode;
      readonly lo: SelectorNode;
      readonly hi: SelectorNode;
      readonly not: boolean;
    }
  | { readonly t: 'in'; readonly e: SelectorNode; readonly list: InList; readonly not: boolean }
  | { readonly t: 'like'; readonly e: SelectorNode; readonly pattern: LikePattern; readonly not: boolean }
  | { readonly t: 'isnull'; readonly e: SelectorNode; readonly not: boolean };

/** Nesting bound: a selector is client input, and recursion depth must not be the client's to choose. */
const MAX_DEPTH = 64;
const CMP_OPS: ReadonlySet<string> = new Set(['=', '<>', '<', '<=', '>', '>=']);

/** Parses a selector of at most `maxLength` characters (limits.selectorMaxLength by default). */
export function parseSelector(text: string, maxLength = DEFAULT_LIMITS.selectorMaxLength): SelectorNode {
  // Checked before anything else is done with the text: the bound is on the work, tokenizing included.
  if (text.length > maxLength) {
    throw new SelectorError(`Selector longer than ${maxLength} characters (selectorMaxLength)`, maxLength);
  }
  return new Parser(tokenize(text)).parse();
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): SelectorNode {
    const node = this.or();
    const t = this.peek();
    if (t.kind !== 'end') throw new SelectorError(`Unexpected '${t.text}'`, t.position);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.i] as Token;
  }

  private next(): Token {
    return this.tokens[this.i++] as Token;
  }

  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t.kind === 'keyword' && t.text === word;
  }

  private isOp(op: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === op;
  }

  private expectKeyword(word: string): void {
    if (!this.isKeyword(word)) this.fail(`Expected ${word}`);
    this.i++;
  }

  private expectOp(op: string): void {
    if (!this.isOp(op)) this.fail(`Expected '${op}'`);
    this.i++;
  }

  private fail(message: string): never {
    const t = this.peek();
    throw new SelectorError(
      t.kind === 'end' ? `${message}, found end` : `${message}, found '${t.text}'`,
      t.position,
    );
  }

  private nest(): void {
    if (++this.depth > MAX_DEPTH) this.fail('Selector nested too deeply');
  }

  private or(): SelectorNode {
    this.nest();
    const first = this.and();
    let node = first;
    if (this.isKeyword('OR')) {
      const operands = [first];
      while (this.isKeyword('OR')) {
        this.i++;
        operands.push(this.and());
      }
      node = { t: 'or', operands };
    }
    this.depth--;
    return node;
  }

  private and(): SelectorNode {
    const first = this.not();
    if (!this.isKeyword('AND')) return first;
    const operands = [first];
    while (this.isKeyword('AND')) {
      this.i++;
      operands.push(this.not());
    }
    return { t: 'and', operands };
  }

  private not(): SelectorNode {
    if (this.isKeyword('NOT')) {
      this.i++;
      this.nest();
      const e = this.not();
      this.depth--;
      return { t: 'not', e };
    }
    return this.predicate();
  }

  private predicate(): SelectorNode {
    const e = this.sum();
    const t = this.peek();
    if (t.kind === 'op' && CMP_OPS.has(t.text)) {
      this.i++;
      return { t: 'cmp', op: t.text, l: e, r: this.sum() };
    }
    if (this.isKeyword('IS')) {
      this.i++;
      let not = false;
      if (this.isKeyword('NOT')) {
        this.i++;
        not = true;
      }
      this.expectKeyword('NULL');
      return { t: 'isnull', e, not };
    }
    let not = false;
    if (this.isKeyword('NOT')) {
      this.i++;
      not = true;
    }
    if (this.isKeyword('BETWEEN')) {
      this.i++;
      const lo = this.sum();
      this.expectKeyword('AND');
      return { t: 'between', e, lo, hi: this.sum(), not };
    }
    if (this.isKeyword('IN')) {
      this.i++;
      this.expectOp('(');
      const list: SelectorValue[] = [this.literal()];
      while (this.isOp(',')) {
        this.i++;
        list.push(this.literal());
      }
      this.expectOp(')');
      return { t: 'in', e, list: new InList(list), not };
    }
    if (this.isKeyword('LIKE')) {
      this.i++;
      const pattern = this.string();
      let escape: string | undefined;
      if (this.isKeyword('ESCAPE')) {
        this.i++;
        const pos = this.peek().position;
        escape = this.string();
        if (escape.length !== 1) throw new SelectorError('ESCAPE must be one character', pos);
      }
      return { t: 'like', e, pattern: new LikePattern(pattern, escape), not };
    }
    if (not) this.fail('Expected BETWEEN, IN or LIKE after NOT');
    return e;
  }

  private sum(): SelectorNode {
    const first = this.product();
    if (!this.isOp('+') && !this.isOp('-')) return first;
    const ops: string[] = [];
    const operands = [first];
    while (this.isOp('+') || this.isOp('-')) {
      ops.push(this.next().text);
      operands.push(this.product());
    }
    return { t: 'arith', ops, operands };
  }

  private product(): SelectorNode {
    const first = this.unary();
    if (!this.isOp('*') && !this.isOp('/')) return first;
    const ops: string[] = [];
    const operands = [first];
    while (this.isOp('*') || this.isOp('/')) {
      ops.push(this.next().text);
      operands.push(this.unary());
    }
    return { t: 'arith', ops, operands };
  }

  private unary(): SelectorNode {
    if (this.isOp('-') || this.isOp('+')) {
      const minus = this.next().text === '-';
      this.nest();
      const e = this.unary();
      this.depth--;
      return minus ? { t: 'neg', e } : e;
    }
    return this.primary();
  }

  private primary(): SelectorNode {
    const t = this.peek();
    if (t.kind === 'ident') {
      this.i++;
      return { t: 'id', name: t.text };
    }
    if (this.isOp('(')) {
      this.i++;
      const e = this.or();
      this.expectOp(')');
      return e;
    }
    return { t: 'lit', v: this.literal() };
  }

  private literal(): SelectorValue {
    const t = this.peek();
    if (t.kind === 'string') {
      this.i++;
      return t.text;
    }
    if (t.kind === 'number') {
      this.i++;
      return t.number;
    }
    if (t.kind === 'op' && (t.text === '-' || t.text === '+')) {
      // A signed number inside IN ( ... ).
      const n = this.tokens[this.i + 1];
      if (n?.kind === 'number') {
        this.i += 2;
        return t.text === '-' ? -n.number : n.number;
      }
    }
    if (t.kind === 'keyword' && (t.text === 'TRUE' || t.text === 'FALSE' || t.text === 'NULL')) {
      this.i++;
      return t.text === 'NULL' ? null : t.text === 'TRUE';
    }
    return this.fail('Expected a literal');
  }

  private string(): string {
    const t = this.peek();
    if (t.kind !== 'string') this.fail('Expected a string literal');
    this.i++;
    return t.text;
  }
}
