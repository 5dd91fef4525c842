/*
 * Selector evaluation with SQL's three-valued logic (JMS 2.0 "Message selector syntax", SQL-92 8.12): a
 * missing property is NULL, NULL makes comparisons and arithmetic UNKNOWN (null here), and
 *
 *   AND   | T  F  U        OR    | T  F  U        NOT T = F, NOT F = T, NOT U = U
 *   T     | T  F  U        T     | T  T  T
 *   F     | F  F  F        F     | T  F  U
 *   U     | U  F  U        U     | T  U  U
 *
 * A message is selected only when the whole selector is TRUE. STOMP header values are text, so where JMS would
 * compare a number with a string (a type mismatch, UNKNOWN), a string that reads as a number is taken as that
 * number and 'true'/'false' as booleans: `priority > 3` works on a header sent as "priority:5".
 */
import type { SelectorNode, SelectorValue } from './parser';
import { asBoolean, asNumber, compare } from './values';

/** Resolves an identifier to a value; null when the message has no such property. */
export type SelectorLookup = (name: string) => SelectorValue;

/** Three-valued AND of two already-evaluated operands. */
function and3(x: boolean | null, y: boolean | null): SelectorValue {
  if (x === false || y === false) return false;
  return x === null || y === null ? null : true;
}

function negate(v: SelectorValue): SelectorValue {
  const x = asBoolean(v);
  return x === null ? null : !x;
}

function arithmetic(op: string, x: number, y: number): number | null {
  switch (op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    default:
      // Division by zero has no value a selector could use: UNKNOWN, never Infinity or NaN.
      return y === 0 ? null : x / y;
  }
}

export function evaluate(node: SelectorNode, lookup: SelectorLookup): SelectorValue {
  switch (node.t) {
    case 'lit':
      return node.v;
    case 'id':
      return lookup(node.name);
    case 'not':
      return negate(evaluate(node.e, lookup));
    case 'and': {
      // Left to right, stopping at the first FALSE; UNKNOWN only if nothing was FALSE (the table above,
      // folded over the chain).
      let unknown = false;
      for (const operand of node.operands) {
        const x = asBoolean(evaluate(operand, lookup));
        if (x === false) return false;
        if (x === null) unknown = true;
      }
      return unknown ? null : true;
    }
    case 'or': {
      let unknown = false;
      for (const operand of node.operands) {
        const x = asBoolean(evaluate(operand, lookup));
        if (x === true) return true;
        if (x === null) unknown = true;
      }
      return unknown ? null : false;
    }
    case 'cmp': {
      const c = compare(evaluate(node.l, lookup), evaluate(node.r, lookup));
      if (c === null) return null;
      switch (node.op) {
        case '=':
          return c === 0;
        case '<>':
          return c !== 0;
        case '<':
          return c < 0;
        case '<=':
          return c <= 0;
        case '>':
          return c > 0;
        default:
          return c >= 0;
      }
    }
    case 'arith': {
      let x = asNumber(evaluate(node.operands[0] as SelectorNode, lookup));
      for (let i = 1; x !== null && i < node.operands.length; i++) {
        const y = asNumber(evaluate(node.operands[i] as SelectorNode, lookup));
        x = y === null ? null : arithmetic(node.ops[i - 1] as string, x, y);
      }
      return x;
    }
    case 'neg': {
      const x = asNumber(evaluate(node.e, lookup));
      return x === null ? null : -x;
    }
    case 'between': {
      const v = evaluate(node.e, lookup);
      const lo = compare(v, evaluate(node.lo, lookup));
      const hi = compare(v, evaluate(node.hi, lookup));
      // x BETWEEN a AND b  is  x >= a AND x <= b, with the same three-valued AND.
      const r = and3(lo === null ? null : lo >= 0, hi === null ? null : hi <= 0);
      return node.not ? negate(r) : r;
    }
    case 'in': {
      const v = evaluate(node.e, lookup);
      if (v === null) return null;
      const found = node.list.has(v);
      return node.not ? !found : found;
    }
    case 'like': {
      const v = evaluate(node.e, lookup);
      if (v === null) return null;
      if (typeof v !== 'string') return null;
      const m = node.pattern.matches(v);
      return node.not ? !m : m;
    }
    case 'isnull': {
      const isNull = evaluate(node.e, lookup) === null;
      return node.not ? !isNull : isNull;
    }
  }
}
