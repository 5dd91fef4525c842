import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LIMITS, type Limits } from '@warren/core';
import { CONF_KEYS, defaultConfig, RABBITMQ_VARIABLES, SETTINGS } from '../src';

// docs/configuration.md lists every setting and every rabbitmq.conf key; this keeps it true to the code.

const DOC = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'configuration.md'), 'utf8');

/** The rows of the first table after `heading`, each as its cells' `code` spans. */
function tableAfter(heading: string): string[][][] {
  const start = DOC.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`docs/configuration.md has no "${heading}"`);
  const lines = DOC.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const end = lines.findIndex((line, i) => i > first && !line.startsWith('|'));
  return lines
    .slice(first + 2, end) // past the header row and its --- row
    .map((row) =>
      row
        .split('|')
        .slice(1, -1)
        .map((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string)),
    );
}

const settingRows = tableAfter('## Settings');
const ignoredRows = tableAfter('## rabbitmq.conf');

function defaultOf(key: string): unknown {
  if (key.startsWith('limits.')) return DEFAULT_LIMITS[key.slice('limits.'.length) as keyof Limits];
  return key
    .split('.')
    .reduce<unknown>((value, part) => (value as Record<string, unknown>)[part], defaultConfig());
}

describe('docs/configuration.md', () => {
  test('lists every setting once, and nothing that is not one', () => {
    const documented = settingRows.map(([key]) => key?.[0]);
    expect([...documented].sort()).toEqual(SETTINGS.map((s) => s.key).sort());
  });

  test.each(SETTINGS.map((s) => [s.key, s] as const))(
    '%s: its variables, flag, rabbitmq.conf keys and default',
    (key, setting) => {
      const row = settingRows.find(([k]) => k?.[0] === key);
      expect(row).toBeDefined();
      const [, env, flag, conf, byDefault] = row as string[][];
      const aliases = RABBITMQ_VARIABLES.filter((v) => v.key === key).map((v) => v.env);
      expect(env).toEqual([setting.env, ...aliases]);
      expect(flag).toEqual(setting.flag === undefined ? [] : [`--${setting.flag}`]);
      expect(conf).toEqual(CONF_KEYS.filter((k) => k.settings.includes(key)).map((k) => k.conf));
      expect(byDefault?.[0]).toBe(JSON.stringify(defaultOf(key)));
    },
  );

  test('every rabbitmq.conf key it names in the settings table is a key Warren reads', () => {
    const known = new Set(CONF_KEYS.map((k) => k.conf));
    const documented = settingRows.flatMap((row) => row[3] ?? []);
    expect(documented.filter((conf) => !known.has(conf))).toEqual([]);
    const mapped = CONF_KEYS.filter((k) => k.settings.length > 0).map((k) => k.conf);
    expect(mapped.filter((conf) => !documented.includes(conf))).toEqual([]);
  });

  test('lists exactly the rabbitmq.conf keys Warren knows but ignores', () => {
    const documented = ignoredRows.map(([key]) => key?.[0]);
    expect(documented).toEqual(CONF_KEYS.filter((k) => k.settings.length === 0).map((k) => k.conf));
  });
});
