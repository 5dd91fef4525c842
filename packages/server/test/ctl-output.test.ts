import { cell, Output } from '../src/ctl/output';

describe("warren ctl's output, as rabbitmqctl prints it", () => {
  test('values: booleans, lists, AMQP tables in Erlang form, nothing for a missing value', () => {
    expect(cell(true)).toBe('true');
    expect(cell(['administrator', 'monitoring'])).toBe('[administrator, monitoring]');
    expect(cell({})).toBe('[]');
    expect(cell({ 'x-message-ttl': 60000, 'x-dead-letter-exchange': 'dlx' })).toBe(
      '[{"x-message-ttl",60000},{"x-dead-letter-exchange","dlx"}]',
    );
    expect(cell(undefined)).toBe('');
  });

  const rows = [
    { name: 'a', messages: 1, durable: true },
    { name: 'b', messages: 0, durable: false },
  ];

  test('a table: the info line, the header in the order asked, tab-separated rows', () => {
    const out = new Output({ quiet: false, silent: false, formatter: 'table' });
    out.info('Listing queues for vhost / ...');
    out.table(['messages', 'name'], rows);
    expect(out.lines).toEqual(['Listing queues for vhost / ...', 'messages\tname', '1\ta', '0\tb']);
  });

  test('-q drops the info line, -s the header too; an empty list prints no header', () => {
    const quiet = new Output({ quiet: true, silent: false, formatter: 'table' });
    quiet.info('Listing ...');
    quiet.table(['name'], rows);
    expect(quiet.lines).toEqual(['name', 'a', 'b']);
    const silent = new Output({ quiet: false, silent: true, formatter: 'table' });
    silent.info('Listing ...');
    silent.table(['name'], rows);
    expect(silent.lines).toEqual(['a', 'b']);
    const empty = new Output({ quiet: false, silent: false, formatter: 'table' });
    empty.table(['name'], []);
    expect(empty.lines).toEqual([]);
  });

  test('--formatter json: one object per line inside [ ], only the columns asked for', () => {
    const out = new Output({ quiet: false, silent: false, formatter: 'json' });
    out.info('Listing ...');
    out.table(['name', 'durable'], rows);
    expect(out.lines.join('\n')).toBe('[\n{"name":"a","durable":true},\n{"name":"b","durable":false}\n]');
    const empty = new Output({ quiet: false, silent: false, formatter: 'json' });
    empty.table(['name'], []);
    expect(empty.lines.join('\n')).toBe('[\n]');
  });
});
