import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BASIC_PROPERTIES, METHODS } from '../src';

// RabbitMQ's published machine-readable spec (MIT; its licence is the file's "copyright" field), vendored
// unchanged so that the check runs wherever the repository is cloned. Our own table is checked against it.
const SPEC_PATH = path.join(__dirname, 'fixtures', 'amqp-rabbitmq-0.9.1.json');

interface SpecField {
  name: string;
  type?: string;
  domain?: string;
}
interface SpecMethod {
  id: number;
  name: string;
  synchronous?: boolean;
  content?: boolean;
  arguments: SpecField[];
}
interface Spec {
  domains: [string, string][];
  classes: { id: number; name: string; methods: SpecMethod[]; properties?: SpecField[] }[];
}

describe('method table against the published AMQP 0-9-1 spec', () => {
  const spec = JSON.parse(fs.readFileSync(SPEC_PATH, 'utf8')) as Spec;
  const domains = new Map(spec.domains);
  const typeOf = (f: SpecField): string => f.type ?? domains.get(f.domain ?? '') ?? `?${f.domain}`;
  const expected = spec.classes.flatMap((c) =>
    c.methods.map((m) => ({
      classId: c.id,
      methodId: m.id,
      name: `${c.name}.${m.name}`,
      synchronous: m.synchronous === true,
      content: m.content === true,
      fields: m.arguments.map((a) => [a.name, typeOf(a)]),
    })),
  );
  const ours = METHODS.map((m) => ({
    classId: m.classId,
    methodId: m.methodId,
    name: m.name,
    synchronous: m.synchronous,
    content: m.content,
    fields: m.fields.map((f) => [f.name, f.type]),
  }));
  const byName = <T extends { name: string }>(xs: T[]): T[] =>
    [...xs].sort((a, b) => a.name.localeCompare(b.name));

  it('has every class and method of the spec, and no other', () => {
    expect(ours.map((m) => m.name).sort()).toEqual(expected.map((m) => m.name).sort());
  });

  it('gives every method the spec ids, flags, field names and field types, in order', () => {
    expect(byName(ours)).toEqual(byName(expected));
  });

  it('lists the basic content properties in spec order with spec types', () => {
    const basic = spec.classes.find((c) => c.name === 'basic');
    expect(BASIC_PROPERTIES.map((p) => [p.name, p.type])).toEqual(
      (basic?.properties ?? []).map((p) => [p.name, typeOf(p)]),
    );
  });
});

describe('generated codecs', () => {
  it('are what the generator makes of the table today', () => {
    const script = path.resolve(__dirname, '../scripts/generate.js');
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
