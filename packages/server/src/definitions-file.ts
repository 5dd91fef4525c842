import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Broker } from '@warren/core';

/**
 * The definitions named by load_definitions cannot be imported. Its message is the one line an operator needs:
 * `cannot load definitions from /etc/warren/defs.json: definitions: queues[0] 'q': durable must be true or false`.
 */
export class DefinitionsFileError extends Error {
  override readonly name = 'DefinitionsFileError';

  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`cannot load definitions from ${file}: ${reasonOf(cause)}`, { cause });
  }
}

/**
 * Imports RabbitMQ's load_definitions: one JSON file, or every *.json of a directory in name order (as
 * RabbitMQ 3.9+ reads a directory). Every file is read and parsed before any is applied; each import is
 * validated whole and is idempotent, so the same file at every start changes nothing after the first.
 */
export async function loadDefinitions(broker: Broker, path: string): Promise<number> {
  const files = await definitionFiles(path);
  const parsed: { file: string; defs: unknown }[] = [];
  for (const file of files) {
    try {
      parsed.push({ file, defs: JSON.parse(await readFile(file, 'utf8')) as unknown });
    } catch (err) {
      throw new DefinitionsFileError(file, err);
    }
  }
  for (const { file, defs } of parsed) {
    try {
      broker.importDefinitions(defs);
    } catch (err) {
      throw new DefinitionsFileError(file, err);
    }
  }
  return parsed.length;
}

async function definitionFiles(path: string): Promise<string[]> {
  try {
    if (!(await stat(path)).isDirectory()) return [path];
    const names = (await readdir(path)).filter((n) => n.endsWith('.json')).sort();
    return names.map((n) => join(path, n));
  } catch (err) {
    throw new DefinitionsFileError(path, err);
  }
}

function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // A system error reads best as node words it ("ENOENT: no such file or directory, stat '...'").
  return err instanceof SyntaxError ? `not JSON: ${err.message}` : err.message;
}
