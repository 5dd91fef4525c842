import { Histogram } from '../src/histogram';

describe('Histogram', () => {
  it('reports every percentile within 1 % of the exact value, and min and max exactly', () => {
    const h = new Histogram();
    const values: number[] = [];
    let x = 12345;
    for (let i = 0; i < 20000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const v = 100 + (x % 50_000_000); // 100 ns .. 50 ms
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const q of [0.5, 0.75, 0.9, 0.95, 0.99, 0.999]) {
      const exact = values[Math.ceil(q * values.length) - 1] as number;
      const got = h.quantile(q) as number;
      expect(Math.abs(got - exact) / exact).toBeLessThan(0.01);
    }
    expect(h.min).toBe(values[0]);
    expect(h.max).toBe(values[values.length - 1]);
    expect(h.quantile(1)).toBe(h.max);
  });

  it('counts small values exactly and reports nothing when empty', () => {
    const h = new Histogram();
    expect(h.quantile(0.5)).toBeUndefined();
    expect(h.mean()).toBeUndefined();
    for (const v of [1, 2, 3, 4, 200]) h.record(v);
    expect(h.quantile(0.5)).toBe(3);
    expect(h.mean()).toBe(42);
  });

  it('keeps latencies of seconds and beyond in range instead of overflowing', () => {
    const h = new Histogram();
    h.record(7.5e9);
    h.record(3e15);
    expect((h.quantile(0.5) as number) / 7.5e9).toBeCloseTo(1, 2);
    expect(h.quantile(1)).toBe(3e15);
  });

  it('merges two histograms into the distribution of both', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 1; i <= 100; i++) a.record(i);
    for (let i = 101; i <= 200; i++) b.record(i);
    a.merge(b);
    expect(a.count).toBe(200);
    expect(a.min).toBe(1);
    expect(a.max).toBe(200);
    expect(a.quantile(0.5)).toBe(100);
  });
});
