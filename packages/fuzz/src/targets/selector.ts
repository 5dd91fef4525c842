import fc from 'fast-check';
import { Selector, SelectorError, type SelectorValue } from '@warren/stomp';
import { invariant, type FuzzTarget } from '../target';

const TOKENS = [
  'a',
  'b',
  'price',
  'JMSPriority',
  'JMSType',
  '"quoted id"',
  "'str'",
  "'it''s'",
  "'%a_b%'",
  '1',
  '0',
  '-1',
  '1.5',
  '1e3',
  '0x1F',
  'TRUE',
  'FALSE',
  'NULL',
  'AND',
  'OR',
  'NOT',
  'IS',
  'NULL',
  'IN',
  'LIKE',
  'ESCAPE',
  "'\\'",
  'BETWEEN',
  '=',
  '<>',
  '<',
  '<=',
  '>',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '(',
  ')',
  ',',
  ' ',
  "'",
];

export interface SelectorInput {
  text: string;
  headers: Record<string, SelectorValue>;
}

export const selectorInput: fc.Arbitrary<SelectorInput> = fc.record({
  text: fc.oneof(
    { weight: 4, arbitrary: fc.array(fc.constantFrom(...TOKENS), { maxLength: 24 }).map((t) => t.join(' ')) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  ),
  headers: fc.dictionary(
    fc.constantFrom('a', 'b', 'price', 'quoted id', 'JMSType'),
    fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null)),
    { maxKeys: 4 },
  ),
});

/**
 * JMS selectors are client input: parsing either succeeds or refuses with a SelectorError (never another
 * exception, never a stack overflow), and a parsed selector evaluates against any message without throwing.
 */
export const selectorTarget: FuzzTarget<SelectorInput> = {
  name: 'selector',
  description: 'STOMP/JMS selectors: parser and evaluator',
  arbitrary: selectorInput,
  run({ text, headers }) {
    let selector: Selector;
    try {
      selector = new Selector(text);
    } catch (e) {
      invariant(e instanceof SelectorError, () => `parsing ${JSON.stringify(text)} threw ${String(e)}`);
      return;
    }
    try {
      selector.matches((name) => (Object.hasOwn(headers, name) ? (headers[name] as SelectorValue) : null));
    } catch (e) {
      throw new Error(`evaluating ${JSON.stringify(text)} threw ${String(e)}`);
    }
  },
};
