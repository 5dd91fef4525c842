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

  test('agrees with the RegExp on long segments mixing _ and literals (the bit-parallel search)', () => {
    // Past 16 tokens such a segment is searched with Shift-And; past 128, with rare letters kept as lists.
    const letters = [...'abcdefghijklmnopqrstuvwxyz😀', '_', '_', '_'];
    const segment = fc
      .integer({ min: 17, max: 300 })
      .chain((n) => fc.array(fc.constantFrom(...letters), { minLength: n, maxLength: n }))
      .map((cs) => cs.join(''));
    const fitted = fc
      .tuple(segment, fc.array(fc.constantFrom('a', 'b', '😀'), { maxLength: 40 }), fc.nat(), fc.boolean())
      .map(([seg, filler, at, spoil]) => {
        const fill = (c: string): string => (c === '_' ? 'q' : c);
        let v = `${filler.join('')}${[...seg].map(fill).join('')}${filler.join('')}`;
        if (spoil && v.length > 0) {
          const i = at % v.length;
          v = `${v.slice(0, i)}z${v.slice(i + 1)}`;
        }
        return { p: `%${seg}%`, v };
      });
    fc.assert(
      fc.property(fitted, ({ p, v }) => {
        expect(selects(likeSelector(p, undefined), v)).toBe(regexLike(p, undefined).test(v));
      }),
      { numRuns: 300 },
    );
  });

  test("'_' stands for one code point: one emoji, not half of one", () => {
    expect(selects(likeSelector('_', undefined), '😀')).toBe(true);
    expect(selects(likeSelector('__', undefined), '😀')).toBe(false);
    expect(selects(likeSelector('a_b', undefined), 'a😀b')).toBe(true);
    expect(selects(likeSelector('%😀', undefined), 'xx😀')).toBe(true);
    expect(selects(likeSelector('%___%', undefined), 'a😀b')).toBe(true);
    expect(selects(likeSelector('%____%', undefined), 'a😀b')).toBe(false);
    expect(selects(likeSelector('%a_b%', undefined), 'xa😀by')).toBe(true);
    expect(selects(likeSelector('%😀%', undefined), 'x\uD83D😀')).toBe(true);
    // A lone surrogate in a value is one character, as the 'u' RegExp counted it.
    expect(selects(likeSelector('a_b', undefined), 'a\uD83Db')).toBe(true);
  });

  test('the leftmost place of each part between two % is taken, and the last part is anchored at the end', () => {
    const selector = likeSelector('a%b_%b%c', undefined);
    expect(selects(selector, 'abxbc')).toBe(true);
    expect(selects(selector, 'ab😀bbc')).toBe(true);
    expect(selects(selector, 'abxbcd')).toBe(false);
    expect(selects(selector, 'abbc')).toBe(false);
    expect(selects(likeSelector('%ab%ab', undefined), 'abab')).toBe(true);
    expect(selects(likeSelector('%ab%ab', undefined), 'aba')).toBe(false);
    expect(selects(likeSelector('ab%ab', undefined), 'ab')).toBe(false);
  });

  test('patterns that make a backtracking RegExp explode are answered, both ways', () => {
    const longA = 'a'.repeat(4000);
    for (const p of [
      `${'%a'.repeat(30)}%b`,
      `${'%a'.repeat(30)}%b%`,
      `${'%_'.repeat(30)}%b%`,
      `%${'_a'.repeat(30)}b%`,
    ]) {
      const selector = likeSelector(p, undefined);
      expect(selects(selector, longA)).toBe(false);
      expect(selects(selector, `${longA}b`)).toBe(true);
    }
  });
});

describe('IN lists', () => {
  // Values as STOMP headers and AMQP tables deliver them, and literals of every kind a list may hold.
  const valueArb = fc.constantFrom<SelectorValue>(
    '1',
    '1.0',
    '01',
    ' 2 ',
    'true',
    'false',
    'a',
    '',
    'NaN',
    1,
    2,
    1.5,
    0,
    -0,
    NaN,
    Infinity,
    true,
    false,
    null,
  );
  const literalArb = fc.constantFrom(
    "'1'",
    "'1.0'",
    "' 2 '",
    "'true'",
    "'a'",
    "''",
    '1',
    '2',
    '1.5',
    '0',
    '-0',
    '-1',
    '1e999',
    'TRUE',
    'FALSE',
    'NULL',
  );
  const valueOf = (v: SelectorValue, text: string): SelectorValue => evaluate(parseSelector(text), () => v);

  test('x IN (...) is TRUE exactly when some x = item is, for short lists and for long ones', () => {
    fc.assert(
      fc.property(
        valueArb,
        fc.array(literalArb, { minLength: 1, maxLength: 6 }),
        fc.nat(40),
        (v, items, pad) => {
          // Filler no value equals, to carry the same list past the size where a scan gives way to Sets.
          const list = [...items, ...Array.from({ length: pad }, (_, i) => `'filler ${i}'`)];
          const equal = items.some((item) => valueOf(v, `x = ${item}`) === true);
          const expected = v === null ? null : equal;
          expect(valueOf(v, `x IN (${list.join(', ')})`)).toBe(expected);
          expect(valueOf(v, `x NOT IN (${list.join(', ')})`)).toBe(expected === null ? null : !expected);
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('a 1,000-entry list finds its members and only them', () => {
    // Over the default selectorMaxLength; an operator may raise it, and the lookup must stay right then.
    const list = Array.from({ length: 1000 }, (_, i) => `'id-${i}'`).join(', ');
    const selector = new Selector(`x IN (${list})`, 16_384);
    expect(selects(selector, 'id-0')).toBe(true);
    expect(selects(selector, 'id-999')).toBe(true);
    expect(selects(selector, 'id-1000')).toBe(false);
    const numbers = new Selector(
      `x IN (${Array.from({ length: 1000 }, (_, i) => i * 2).join(', ')})`,
      16_384,
    );
    expect(selects(numbers, '998')).toBe(true);
    expect(selects(numbers, 998)).toBe(true);
    expect(selects(numbers, 999)).toBe(false);
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
