import fc from 'fast-check';
import { evaluate, parseSelector, Selector, type SelectorValue } from '../src';

/**
 * The LIKE compilation Warren used before its hand-written matcher: a `u` RegExp. It is the reference the
 * matcher must agree with (on inputs small enough for its backtracking to stay quick).
 */
function regexLike(pattern: string, escape: string | undefined): RegExp {
  const regexEscape = (c: string): string => (/[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c);
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (escape !== undefined && c === escape && i + 1 < pattern.length)
      source += regexEscape(pattern.charAt(++i));
    else if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += regexEscape(c);
  }
  return new RegExp(`${source}$`, 'u');
}

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

function likeSelector(pattern: string, escape: string | undefined): Selector {
  return new Selector(`v LIKE ${quote(pattern)}${escape === undefined ? '' : ` ESCAPE ${quote(escape)}`}`);
}

const selects = (selector: Selector, v: SelectorValue): boolean => selector.matches(() => v);

// Wildcards, the usual escape characters, a quote, a newline and a character outside the BMP (two UTF-16 code
// units, one code point): the places where a hand-written matcher could go wrong.
const ALPHABET = ['a', 'b', '%', '_', '\\', '!', "'", '\n', '😀'];
const text = (maxLength: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...ALPHABET), { maxLength }).map((cs) => cs.join(''));
const escapeArb = fc.option(fc.constantFrom('\\', '!', '%', '_', 'a', "'"), { nil: undefined });

describe('LIKE matching', () => {
  test('agrees with the RegExp compilation it replaced, for any short pattern, escape and value', () => {
    fc.assert(
      fc.property(text(10), escapeArb, fc.array(text(14), { minLength: 1, maxLength: 8 }), (p, e, values) => {
        const selector = likeSelector(p, e);
        const re = regexLike(p, e);
        for (const v of values) expect(selects(selector, v)).toBe(re.test(v));
      }),
      { numRuns: 3000 },
    );
  });

  test('agrees with the RegExp on values built to fit the pattern, where matches are not rare', () => {
    // Substituting each wildcard with something it accepts gives a value that matches; mutate it a little.
    const fitted = fc
      .tuple(
        text(8),
        fc.array(text(3), { minLength: 8, maxLength: 8 }),
        fc.nat(20),
        fc.constantFrom(...ALPHABET),
      )
      .map(([p, fills, cut, extra]) => {
        let k = 0;
        const v = [...p]
          .map((c) =>
            c === '%' ? (fills[k++ % 8] ?? '') : c === '_' ? ([...(fills[k++ % 8] ?? '')][0] ?? 'x') : c,
          )
          .join('');
        return { p, values: [v, v + extra, extra + v, [...v].slice(0, cut).join('')] };
      });
    fc.assert(
      fc.property(fitted, escapeArb, ({ p, values }, e) => {
        const selector = likeSelector(p, e);
        const re = regexLike(p, e);
        for (const v of values) expect(selects(selector, v)).toBe(re.test(v));
      }),
      { numRuns: 3000 },
    );
  });

  test("'_' stands for one code point: one emoji, not half of one", () => {
    expect(selects(likeSelector('_', undefined), '😀')).toBe(true);
    expect(selects(likeSelector('__', undefined), '😀')).toBe(false);
    expect(selects(likeSelector('a_b', undefined), 'a😀b')).toBe(true);
    expect(selects(likeSelector('%😀', undefined), 'xx😀')).toBe(true);
  });

  test('a pattern that makes a backtracking RegExp explode is answered, both ways', () => {
    const selector = likeSelector(`${'%a'.repeat(30)}%b`, undefined);
    const longA = 'a'.repeat(4000);
    expect(selects(selector, longA)).toBe(false);
    expect(selects(selector, `${longA}b`)).toBe(true);
    const underscores = likeSelector(`${'%_'.repeat(30)}%b`, undefined);
    expect(selects(underscores, longA)).toBe(false);
    expect(selects(underscores, `${longA}b`)).toBe(true);
  });
});

describe('comparisons', () => {
  const valueOf = (v: SelectorValue, text: string): SelectorValue => evaluate(parseSelector(text), () => v);

  test('NaN, as an AMQP double header can carry it, equals nothing and compares as UNKNOWN', () => {
    expect(valueOf(NaN, 'x = 1')).toBeNull();
    expect(valueOf(NaN, 'x <> 1')).toBeNull();
    expect(valueOf(NaN, 'x > 1')).toBeNull();
    expect(valueOf(NaN, 'x IN (1, 2)')).toBe(false);
  });
});
