#!/usr/bin/env node
'use strict';
/**
 * Turns the method table (src/codec/spec/amqp-0-9-1.spec) into src/codec/generated/methods.ts: one interface,
 * id constant, size function, encoder and decoder per method, plus the dispatchers and the table itself as
 * runtime metadata. Plain Node, no dependencies, deterministic output.
 *
 *   node packages/amqp/scripts/generate.js           rewrite the generated file
 *   node packages/amqp/scripts/generate.js --check   exit 1 if the committed file is stale (CI)
 *
 * The output is laid out the way prettier would print it, so formatting never makes --check fail.
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SPEC = path.join(ROOT, 'src/codec/spec/amqp-0-9-1.spec');
const OUT = path.join(ROOT, 'src/codec/generated/methods.ts');

const PRIMITIVES = ['bit', 'octet', 'short', 'long', 'longlong', 'shortstr', 'longstr', 'timestamp', 'table'];
/** Wire width of the fixed-size types; the others carry a length prefix. */
const WIDTH = { octet: 1, short: 2, long: 4, longlong: 8, timestamp: 8 };
const TS_TYPE = {
  bit: 'boolean',
  octet: 'number',
  short: 'number',
  long: 'number',
  longlong: 'number',
  timestamp: 'number',
  shortstr: 'string',
  longstr: 'Buffer',
  table: 'FieldTable',
};
/** Spec names whose mechanical camelCase reads badly. */
const RENAMES = { nowait: 'noWait' };

/** Parses the table; see the grammar at the top of the .spec file. */
function parseSpec(text) {
  const domains = new Map(PRIMITIVES.map((t) => [t, t]));
  const classes = [];
  let cls = null;
  let method = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const words = line.split(/\s+/);
    const fail = (why) => {
      throw new Error(`${SPEC}:${i + 1}: ${why}: ${raw.trim()}`);
    };
    const typeOf = (domain) => domains.get(domain) || fail(`unknown type or domain '${domain}'`);
    const [head, name, id, ...flags] = words;
    if (head === 'domain') {
      if (!PRIMITIVES.includes(id)) fail(`domain of unknown type '${id}'`);
      domains.set(name, id);
    } else if (head === 'class') {
      cls = { name, id: Number(id), methods: [], properties: [] };
      classes.push(cls);
      method = null;
    } else if (head === 'method') {
      if (!cls) fail('method outside a class');
      method = {
        name,
        id: Number(id),
        synchronous: flags.includes('synchronous'),
        content: flags.includes('content'),
        fields: [],
      };
      cls.methods.push(method);
    } else if (head === 'property') {
      if (!cls) fail('property outside a class');
      cls.properties.push({ name, domain: id, type: typeOf(id) });
    } else if (words.length === 2) {
      if (!method) fail('field outside a method');
      method.fields.push({ name: head, domain: name, type: typeOf(name) });
    } else {
      fail('unrecognised line');
    }
  });
  return classes;
}

const camel = (s) => RENAMES[s] || s.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
const pascal = (s) => camel(s).replace(/^[a-z]/, (c) => c.toUpperCase());
const constant = (s) => s.replace(/-/g, '_').toUpperCase();
const hexId = (c, m) => `0x${((c << 16) | m).toString(16).padStart(8, '0')}`;

/** Groups fields into runs: fixed-width runs (consecutive bits share octets) and single variable fields. */
function layout(fields) {
  const runs = [];
  let run = null;
  let bit = 8;
  for (const f of fields) {
    const field = { ...f, prop: camel(f.name) };
    if (f.type === 'shortstr' || f.type === 'longstr' || f.type === 'table') {
      runs.push({ kind: f.type, field });
      run = null;
      bit = 8;
      continue;
    }
    if (!run) runs.push((run = { kind: 'fixed', size: 0, items: [] }));
    if (f.type === 'bit') {
      // Spec 4.2.5.2: consecutive bits are packed into octets, least significant bit first, 8 per octet.
      if (bit === 8) {
        run.items.push({ type: 'bits', at: run.size, fields: [] });
        run.size += 1;
        bit = 0;
      }
      run.items[run.items.length - 1].fields.push({ ...field, mask: 1 << bit++ });
    } else {
      run.items.push({ type: f.type, at: run.size, field });
      run.size += WIDTH[f.type];
      bit = 8;
    }
  }
  return runs;
}

const at = (n) => (n === 0 ? 'p' : `p + ${n}`);

function emitMethod(out, cls, m) {
  const name = `${cls.name}.${m.name}`;
  const Type = pascal(`${cls.name}-${m.name}`);
  const ID = constant(`${cls.name}-${m.name}`);
  const runs = layout(m.fields);
  out.push(`// ${name}`, '');
  out.push(`export const ${ID} = ${hexId(cls.id, m.id)};`, '');
  out.push(`export interface ${Type} {`, `  readonly id: typeof ${ID};`);
  for (const f of m.fields) out.push(`  ${camel(f.name)}: ${TS_TYPE[f.type]};`);
  out.push('}', '');

  // Size: 4 octets of class and method id plus the fields.
  let fixed = 4;
  const terms = [];
  for (const r of runs) {
    if (r.kind === 'fixed') fixed += r.size;
    else if (r.kind === 'shortstr') terms.push(`shortstrSize(m.${r.field.prop})`);
    else if (r.kind === 'longstr') terms.push(`longstrSize(m.${r.field.prop})`);
    else terms.push(`fieldTableSize(m.${r.field.prop})`);
  }
  const arg = m.fields.length ? 'm' : '_m';
  out.push(`function size${Type}(${terms.length ? 'm' : '_m'}: ${Type}): number {`);
  const sum = [String(fixed), ...terms];
  if (`  return ${sum.join(' + ')};`.length <= 110) out.push(`  return ${sum.join(' + ')};`);
  else out.push('  return (', ...sum.map((t, i) => `    ${t}${i < sum.length - 1 ? ' +' : ''}`), '  );');
  out.push('}', '');

  // Encoder: the ids, then each run; fixed runs write at constant offsets and advance once.
  out.push(`function encode${Type}(buf: Buffer, p: number, ${arg}: ${Type}): number {`);
  out.push(`  buf.writeUInt32BE(${hexId(cls.id, m.id)}, p);`, '  p += 4;');
  for (const r of runs) {
    if (r.kind === 'shortstr') out.push(`  p = writeShortstr(buf, p, m.${r.field.prop});`);
    else if (r.kind === 'longstr') out.push(`  p = writeLongstr(buf, p, m.${r.field.prop});`);
    else if (r.kind === 'table') out.push(`  p = writeFieldTable(buf, p, m.${r.field.prop});`);
    else {
      for (const it of r.items) {
        if (it.type === 'bits') {
          out.push('  {', '    let bits = 0;');
          for (const b of it.fields) out.push(`    if (m.${b.prop}) bits |= ${b.mask};`);
          out.push(`    buf[${at(it.at)}] = bits;`, '  }');
        } else if (it.type === 'octet') out.push(`  buf.writeUInt8(m.${it.field.prop}, ${at(it.at)});`);
        else if (it.type === 'short') out.push(`  buf.writeUInt16BE(m.${it.field.prop}, ${at(it.at)});`);
        else if (it.type === 'long') out.push(`  buf.writeUInt32BE(m.${it.field.prop}, ${at(it.at)});`);
        else out.push(`  writeLonglong(buf, ${at(it.at)}, m.${it.field.prop});`);
      }
      out.push(`  p += ${r.size};`);
    }
  }
  out.push('  return p;', '}', '');

  // Decoder: every length is checked against `end` before it is trusted; trailing octets are an error too,
  // as RabbitMQ's binary match on the whole argument list makes them.
  const vars = runs.filter((r) => r.kind !== 'fixed').length;
  out.push(`function decode${Type}(buf: Buffer, p: number, end: number): ${Type} {`);
  if (vars > 1) out.push('  let q: number;');
  const q = vars > 1 ? 'q' : 'const q';
  const values = [];
  let n = 0;
  for (const r of runs) {
    if (r.kind === 'fixed') {
      out.push(`  need(buf, p, ${r.size}, end, '${name}');`);
      for (const it of r.items) {
        if (it.type === 'bits') {
          const v = `b${n++}`;
          out.push(`  const ${v} = buf[${at(it.at)}] as number;`);
          for (const b of it.fields) values.push([b.prop, `(${v} & ${b.mask}) !== 0`]);
          continue;
        }
        const v = `f${n++}`;
        const read =
          it.type === 'octet'
            ? `buf[${at(it.at)}] as number`
            : it.type === 'short'
              ? `buf.readUInt16BE(${at(it.at)})`
              : it.type === 'long'
                ? `buf.readUInt32BE(${at(it.at)})`
                : `readLonglong(buf, ${at(it.at)})`;
        out.push(`  const ${v} = ${read};`);
        values.push([it.field.prop, v]);
      }
      out.push(`  p += ${r.size};`);
    } else {
      const v = `f${n++}`;
      const end = r.kind === 'shortstr' ? 'shortstrEnd' : 'longstrEnd';
      const read =
        r.kind === 'shortstr'
          ? "buf.toString('utf8', p + 1, q)"
          : r.kind === 'longstr'
            ? 'readLongstr(buf, p, q)'
            : 'decodeFieldTable(buf, p + 4, q)';
      out.push(`  ${q} = ${end}(buf, p, end, '${name}');`, `  const ${v} = ${read};`);
      out.push('  p = q;');
      values.push([r.field.prop, v]);
    }
  }
  out.push(`  if (p !== end) cannotDecode('${name}', buf, p, end);`);
  if (values.length === 0) out.push(`  return { id: ${ID} };`);
  else {
    out.push('  return {', `    id: ${ID},`);
    for (const [k, v] of values) out.push(k === v ? `    ${k},` : `    ${k}: ${v},`);
    out.push('  };');
  }
  out.push('}', '');
}

function fieldInfo(f) {
  return `{ name: '${f.name}', domain: '${f.domain}', type: '${f.type}' }`;
}

function emitFieldList(out, indent, key, fields) {
  if (fields.length === 0) return out.push(`${indent}${key}: [],`);
  const one = `${indent}${key}: [${fieldInfo(fields[0])}],`;
  if (fields.length === 1 && one.length <= 110) return out.push(one);
  out.push(`${indent}${key}: [`, ...fields.map((f) => `${indent}  ${fieldInfo(f)},`), `${indent}],`);
}

function generate(classes) {
  const methods = classes.flatMap((c) => c.methods.map((m) => ({ c, m })));
  const out = [
    '// Generated by packages/amqp/scripts/generate.js from src/codec/spec/amqp-0-9-1.spec: do not edit.',
    '// Regenerate with `node packages/amqp/scripts/generate.js`; CI runs it with --check.',
    '',
    "import { WarrenError, type FieldTable } from '@warren/core';",
    "import { decodeFieldTable, fieldTableSize, writeFieldTable } from '../field-table';",
    'import {',
    ...[
      'cannotDecode',
      'longstrEnd',
      'longstrSize',
      'need',
      'readLongstr',
      'readLonglong',
      'shortstrEnd',
      'shortstrSize',
      'writeLongstr',
      'writeLonglong',
      'writeShortstr',
    ].map((s) => `  ${s},`),
    "} from '../primitives';",
    '',
    'export type AmqpType =',
    `  ${PRIMITIVES.map((t) => `'${t}'`).join(' | ')};`,
    '',
    'export interface FieldInfo {',
    '  readonly name: string;',
    '  readonly domain: string;',
    '  readonly type: AmqpType;',
    '}',
    '',
    'export interface MethodInfo {',
    "  /** `classId * 65536 + methodId`, the value of the decoded method's `id`. */",
    '  readonly id: number;',
    '  readonly classId: number;',
    '  readonly methodId: number;',
    "  /** RabbitMQ's spelling, as used in reply texts: 'queue.declare'. */",
    '  readonly name: string;',
    '  readonly synchronous: boolean;',
    '  readonly content: boolean;',
    '  readonly fields: readonly FieldInfo[];',
    '}',
    '',
  ];
  for (const c of classes) out.push(`export const ${constant(c.name)}_CLASS_ID = ${c.id};`);
  out.push('');
  for (const { c, m } of methods) emitMethod(out, c, m);

  out.push(
    'export type Method =',
    ...methods.map(({ c, m }, i) => {
      const last = i === methods.length - 1 ? ';' : '';
      return `  | ${pascal(`${c.name}-${m.name}`)}${last}`;
    }),
    '',
  );

  out.push(
    '/** Every method of the table, in table order. */',
    'export const METHODS: readonly MethodInfo[] = [',
  );
  for (const { c, m } of methods) {
    out.push(
      '  {',
      `    id: ${constant(`${c.name}-${m.name}`)},`,
      `    classId: ${c.id},`,
      `    methodId: ${m.id},`,
    );
    out.push(
      `    name: '${c.name}.${m.name}',`,
      `    synchronous: ${m.synchronous},`,
      `    content: ${m.content},`,
    );
    emitFieldList(out, '    ', 'fields', m.fields);
    out.push('  },');
  }
  out.push('];', '');
  const basic = classes.find((c) => c.name === 'basic');
  out.push("/** The basic class's content properties, in property-flag order (bit 15 first). */");
  out.push('export const BASIC_PROPERTIES: readonly FieldInfo[] = [');
  for (const p of basic.properties) out.push(`  ${fieldInfo(p)},`);
  out.push('];', '');

  out.push(
    'const BY_ID = new Map<number, MethodInfo>(METHODS.map((m) => [m.id, m]));',
    '',
    '/** The table entry for a method, or undefined for ids outside AMQP 0-9-1. */',
    'export function methodInfo(classId: number, methodId: number): MethodInfo | undefined {',
    '  return BY_ID.get(classId * 65536 + methodId);',
    '}',
    '',
    '/**',
    ' * Decodes the arguments in [p, end) of method (classId, methodId). Unknown ids are COMMAND_INVALID (503);',
    ' * arguments that do not match the method exactly are FRAME_ERROR (501), as in RabbitMQ.',
    ' */',
    'export function decodeMethod(',
    '  classId: number,',
    '  methodId: number,',
    '  buf: Buffer,',
    '  p = 0,',
    '  end: number = buf.length,',
    '): Method {',
    '  switch (classId * 65536 + methodId) {',
  );
  for (const { c, m } of methods) {
    out.push(
      `    case ${constant(`${c.name}-${m.name}`)}:`,
      `      return decode${pascal(`${c.name}-${m.name}`)}(buf, p, end);`,
    );
  }
  out.push(
    '    default:',
    "      throw new WarrenError('COMMAND_INVALID', `unknown method: class-id ${classId}, method-id ${methodId}`);",
    '  }',
    '}',
    '',
    '/** Octets `encodeMethod` writes for `m`: class id, method id and arguments. */',
    'export function methodSize(m: Method): number {',
    '  switch (m.id) {',
  );
  for (const { c, m } of methods) {
    out.push(
      `    case ${constant(`${c.name}-${m.name}`)}:`,
      `      return size${pascal(`${c.name}-${m.name}`)}(m);`,
    );
  }
  out.push(
    '  }',
    '}',
    '',
    '/** Writes class id, method id and arguments at `p`; `buf` must hold `methodSize(m)` octets from `p`. */',
    'export function encodeMethod(buf: Buffer, p: number, m: Method): number {',
    '  switch (m.id) {',
  );
  for (const { c, m } of methods) {
    out.push(
      `    case ${constant(`${c.name}-${m.name}`)}:`,
      `      return encode${pascal(`${c.name}-${m.name}`)}(buf, p, m);`,
    );
  }
  out.push('  }', '}', '');
  return out.join('\n');
}

function main() {
  const text = generate(parseSpec(fs.readFileSync(SPEC, 'utf8')));
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : '';
    if (current !== text) {
      process.stderr.write(
        `${path.relative(process.cwd(), OUT)} is stale: run node ${path.relative(process.cwd(), path.join(__dirname, 'generate.js'))}\n`,
      );
      process.exit(1);
    }
    return;
  }
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, text);
}

if (require.main === module) main();

module.exports = { parseSpec, generate };
