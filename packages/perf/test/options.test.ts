import { parseOptions, parseSize, UsageError } from '../src/options';

describe('warren-perf options', () => {
  it('defaults to one producer and one consumer, 16 B, no-ack, on localhost:5672', () => {
    const o = parseOptions([]);
    expect(o).toMatchObject({
      host: '127.0.0.1',
      port: 5672,
      producers: 1,
      consumers: 1,
      size: 16,
      ack: 'auto',
    });
  });

  it('reads the harness flags and short forms', () => {
    const o = parseOptions([
      '-x',
      '2',
      '-y',
      '4',
      '-s',
      '1k',
      '--ack',
      'manual',
      '-q',
      '100',
      '--ack-every',
      '10',
    ]);
    expect(o).toMatchObject({
      producers: 2,
      consumers: 4,
      size: 1024,
      ack: 'manual',
      prefetch: 100,
      ackEvery: 10,
    });
  });

  it('accepts sizes with k and m suffixes', () => {
    expect(parseSize('64k', '--size')).toBe(65536);
    expect(parseSize('1M', '--size')).toBe(1048576);
    expect(() => parseSize('1.5k', '--size')).toThrow(UsageError);
  });

  it('returns nothing for --help', () => {
    expect(parseOptions(['--help'])).toBeUndefined();
  });

  it.each([
    [['--size', '8'], /at least 16/],
    [['--ack', 'sometimes'], /auto or manual/],
    [['--fanout', '4', '-y', '2'], /every queue needs a consumer/],
    [['--fanout', '2', '--topic', '2', '-y', '2'], /exclude/],
    [['--ack', 'manual', '-q', '10', '--ack-every', '20'], /stall/],
    [['--producers', 'two'], /expected a number/],
    [['--bogus'], /Unknown option/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(message);
  });
});
