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
import { SelectorError, tokenize, type Token } from './lexer';
import { InList } from './in-list';
import { LikePattern } from './like-pattern';

export type SelectorValue = string | number | boolean | null;

export type SelectorNode =
  | { readonly t: 'lit'; readonly v: SelectorValue }
  | { readonly t: 'id'; readonly name: string }
  | { readonly t: 'not'; readonly e: SelectorNode }
  | { readonly t: 'and' | 'or'; readonly l: SelectorNode; readonly r: SelectorNode }
  | { readonly t: 'cmp'; readonly op: string; readonly l: SelectorNode; readonly r: SelectorNode }
  | { readonly t: 'arith'; readonly op: string; readonly l: SelectorNode; readonly r: SelectorNode }
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

export function parseSelector(text: string): SelectorNode {
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
    let l = this.and();
    while (this.isKeyword('OR')) {
      this.i++;
      l = { t: 'or', l, r: this.and() };
    }
    this.depth--;
    return l;
  }

  private and(): SelectorNode {
    let l = this.not();
    while (this.isKeyword('AND')) {
      this.i++;
      l = { t: 'and', l, r: this.not() };
    }
    return l;
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
    let l = this.product();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().text;
      l = { t: 'arith', op, l, r: this.product() };
    }
    return l;
  }

  private product(): SelectorNode {
    let l = this.unary();
    while (this.isOp('*') || this.isOp('/')) {
      const op = this.next().text;
      l = { t: 'arith', op, l, r: this.unary() };
    }
    return l;
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
