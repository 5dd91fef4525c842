import fc from 'fast-check';
import { IdMap } from '../src/id-map';
import { MessageTable } from '../src/message-table';

/** The journal's id -> slot hash table and its message columns behave like a Map, whatever the ids. */

type Op =
  | { op: 'set'; id: number; slot: number }
  | { op: 'delete'; id: number }
  | { op: 'get'; id: number }
  /** Many ids at once, so the table grows past its first size and shrinks back. */
  | { op: 'setRange' | 'deleteRange'; from: number; n: number };

// Few distinct ids so sets, deletes and gets meet; some far apart, some colliding in the low or high bits.
const idArb = fc.oneof(
  fc.integer({ min: 0, max: 300 }),
  fc.integer({ min: 0, max: 40 }).map((k) => k * 1024),
  fc.integer({ min: 0, max: 40 }).map((k) => 2 ** 32 * k + 5),
  fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), id: idArb, slot: fc.nat(1e6) }),
  fc.record({ op: fc.constant('delete' as const), id: idArb }),
  fc.record({ op: fc.constant('get' as const), id: idArb }),
  fc.record({
    op: fc.constantFrom('setRange' as const, 'deleteRange' as const),
    from: fc.constantFrom(0, 1000, 2 ** 32 - 2000),
    n: fc.integer({ min: 1, max: 5000 }),
  }),
);

describe('IdMap', () => {
  test('answers like a Map under any sets and deletes, across growing and shrinking', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const map = new IdMap();
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.op === 'setRange' || o.op === 'deleteRange') {
            for (let id = o.from; id < o.from + o.n; id++) {
              if (o.op === 'setRange') {
                map.set(id, id % 77);
                model.set(id, id % 77);
              } else {
                map.delete(id);
                model.delete(id);
              }
            }
          } else if (o.op === 'set') {
            map.set(o.id, o.slot);
            model.set(o.id, o.slot);
          } else if (o.op === 'delete') {
            map.delete(o.id);
            model.delete(o.id);
          } else if (o.op === 'get') {
            expect(map.get(o.id)).toBe(model.get(o.id) ?? -1);
          }
        }
        expect(map.size).toBe(model.size);
        const wrong = [...model].filter(([id, slot]) => map.get(id) !== slot);
        expect(wrong).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  test('keeps a million consecutive ids and lets go of them again', () => {
    const map = new IdMap();
    const base = 2 ** 32 - 500_000;
    for (let i = 0; i < 1_000_000; i++) map.set(base + i, i);
    for (let i = 0; i < 1_000_000; i += 3) map.delete(base + i);
    let wrong = 0;
    for (let i = 0; i < 1_000_000; i++) if (map.get(base + i) !== (i % 3 === 0 ? -1 : i)) wrong++;
    expect(wrong).toBe(0);
    for (let i = 0; i < 1_000_000; i++) map.delete(base + i);
    expect(map.size).toBe(0);
    expect(map.get(base + 1)).toBe(-1);
  });
});

describe('MessageTable', () => {
  test('keeps every id on its own slot while slots move to fill holes, over several chunks', () => {
    const table = new MessageTable();
    const live = new Map<number, number>(); // id -> refs written
    for (let id = 1; id <= 50_000; id++) {
      const s = table.add(id);
      table.setRefs(s, id % 7);
      table.setBody(s, id % 5, id * 3, id % 1000);
      live.set(id, id % 7);
    }
    // Remove two of every three, front to back and back to front, across chunk boundaries.
    for (let id = 1; id <= 50_000; id += 3) {
      table.remove(table.find(id));
      live.delete(id);
    }
    for (let id = 50_000; id >= 1; id -= 3) {
      if (!live.has(id)) continue;
      table.remove(table.find(id));
      live.delete(id);
    }
    expect(table.size).toBe(live.size);
    for (const [id, refs] of live) {
      const s = table.find(id);
      expect(table.id(s)).toBe(id);
      expect(table.refs(s)).toBe(refs);
      expect([table.bodySeg(s), table.bodyOff(s), table.bodyLen(s)]).toEqual([id % 5, id * 3, id % 1000]);
    }
    const seen = new Set<number>();
    for (let s = 0; s < table.size; s++) seen.add(table.id(s));
    expect(seen).toEqual(new Set(live.keys()));
  });

  test('refuses an offset that would not fit its 32-bit column rather than wrap it', () => {
    const table = new MessageTable();
    const s = table.add(1);
    expect(() => table.setBody(s, 1, 2 ** 32, 10)).toThrow(/does not fit/);
  });
});
