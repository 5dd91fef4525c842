import { ApiError, CtlError, EXIT, segment, type ManagementClient } from './client';
import type { Output } from './output';

export interface CommandContext {
  readonly api: ManagementClient;
  readonly out: Output;
  readonly args: readonly string[];
  readonly vhost: string;
  readonly amqp: { host: string; port: number };
  readonly timeoutMs: number;
}

export interface Command {
  /** Shown by `warren ctl help`: the arguments after the verb. */
  readonly usage: string;
  readonly describe: string;
  /** How many arguments it takes: [min, max]; max Infinity for column lists. */
  readonly arity: readonly [number, number];
  run(ctx: CommandContext): Promise<void>;
}

export type Row = Record<string, unknown>;
export const vhostPath = (ctx: CommandContext): string => segment(ctx.vhost);

export async function exists(api: ManagementClient, path: string): Promise<Row | undefined> {
  try {
    return await api.get<Row>(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

export async function requireVhost(ctx: CommandContext): Promise<void> {
  if ((await exists(ctx.api, `/api/vhosts/${vhostPath(ctx)}`)) === undefined) {
    throw new CtlError(`Virtual host '${ctx.vhost}' does not exist`, EXIT.dataError);
  }
}

export async function requireUser(ctx: CommandContext, name: string): Promise<Row> {
  const user = await exists(ctx.api, `/api/users/${segment(name)}`);
  if (user === undefined) throw new CtlError(`User "${name}" does not exist`, EXIT.software);
  return user;
}

export const tagsOf = (user: Row): string[] =>
  Array.isArray(user['tags'])
    ? (user['tags'] as string[])
    : String(user['tags'] ?? '')
        .split(',')
        .filter((t) => t !== '');

/** What a queue command says of a queue the vhost does not have. */
export function queueNotFound(name: string, vhost: string): CtlError {
  return new CtlError(`Queue '${name}' in vhost '${vhost}' not found`, EXIT.dataError);
}
