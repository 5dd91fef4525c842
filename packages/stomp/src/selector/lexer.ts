/*
 * Tokens of a JMS message selector (JMS 2.0 "Message selector syntax", a subset of SQL-92 conditional
 * expressions):
 *
 *   identifier  = java-letter *java-letter-or-digit    ; not a keyword; case-sensitive
 *               | '"' *( any char except '"' | '""' ) '"'   ; Warren: SQL-92 delimited identifier, so header
 *                                                          ; names with '-' (content-type) can be named
 *   string      = "'" *( any char except "'" | "''" ) "'"
 *   number      = digits [ "." digits ] [ exponent ] [ "L" | "l" ] | "." digits [ exponent ] | "0x" hexdigits
 *   keyword     = NOT AND OR BETWEEN LIKE ESCAPE IN IS NULL TRUE FALSE   ; case-insensitive
 *   operator    = "=" | "<>" | "<" | "<=" | ">" | ">=" | "+" | "-" | "*" | "/" | "(" | ")" | ","
 */
export class SelectorError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
    this.name = 'SelectorError';
  }
}

export type TokenKind = 'ident' | 'string' | 'number' | 'keyword' | 'op' | 'end';

export interface Token {
  readonly kind: TokenKind;
  /** Keywords upper-cased; identifiers and strings decoded. */
  readonly text: string;
  readonly number: number;
  readonly position: number;
}

const KEYWORDS: ReadonlySet<string> = new Set([
  'NOT',
  'AND',
  'OR',
  'BETWEEN',
  'LIKE',
  'ESCAPE',
  'IN',
  'IS',
  'NULL',
  'TRUE',
  'FALSE',
]);

const IDENT_START = /[A-Za-z_$]/;
const IDENT_PART = /[A-Za-z0-9_$]/;
const NUMBER = /^(?:0[xX][0-9a-fA-F]+|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[lLfFdD]?/;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, value: string, position: number, number = 0): void => {
    tokens.push({ kind, text: value, number, position });
  };
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
    } else if (c === "'" || c === '"') {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new SelectorError('Unterminated literal', start);
        const d = text.charAt(i);
        if (d === c) {
          // SQL: a doubled quote inside a literal is one quote.
          if (text.charAt(i + 1) === c) {
            value += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += d;
        i++;
      }
      push(c === "'" ? 'string' : 'ident', value, start);
    } else if ((c >= '0' && c <= '9') || (c === '.' && /[0-9]/.test(text.charAt(i + 1)))) {
      const m = NUMBER.exec(text.slice(i));
      if (m === null) throw new SelectorError('Bad number', i);
      const raw = m[0].replace(/[lLfFdD]$/, '');
      const value = /^0[xX]/.test(raw) ? parseInt(raw.slice(2), 16) : Number(raw);
      push('number', raw, i, value);
      i += m[0].length;
    } else if (IDENT_START.test(c)) {
      const start = i;
      while (i < text.length && IDENT_PART.test(text.charAt(i))) i++;
      const word = text.slice(start, i);
      const upper = word.toUpperCase();
      if (KEYWORDS.has(upper)) push('keyword', upper, start);
      else push('ident', word, start);
    } else {
      const two = text.slice(i, i + 2);
      if (two === '<>' || two === '<=' || two === '>=') {
        push('op', two, i);
        i += 2;
      } else if ('=<>+-*/(),'.includes(c)) {
        push('op', c, i);
        i++;
      } else {
        throw new SelectorError(`Unexpected character '${c}'`, i);
      }
    }
  }
  push('end', '', text.length);
  return tokens;
}
