import { readFile, writeFile } from 'node:fs/promises';
import { pingAmqp } from '../ping';
import { CtlError, EXIT, ApiError, segment, type ManagementClient } from './client';
import type { Output } from './output';

/** What a command gets: the API, where to print, its own arguments, the -p vhost and the AMQP address. */
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

type Row = Record<string, unknown>;

/**
 * A list command: the items of one API path, the columns asked for (or the defaults rabbitmqctl shows), and
 * how an API item becomes a row of rabbitmqctl's column names.
 */
function list(spec: {
  describe: string;
  banner: (ctx: CommandContext) => string;
  path: (ctx: CommandContext) => string;
  defaults: readonly string[];
  row?: (item: Row) => Row;
}): Command {
  return {
    usage: '[column ...]',
    describe: spec.describe,
    arity: [0, Infinity],
    async run(ctx) {
      const columns = ctx.args.length > 0 ? ctx.args : spec.defaults;
      ctx.out.info(spec.banner(ctx));
      let items: Row[];
      try {
        items = await ctx.api.get<Row[]>(spec.path(ctx));
      } catch (err) {
        // Every list path but the vhost-wide ones exists; a 404 means the -p vhost does not.
        if (err instanceof ApiError && err.status === 404) {
          throw new CtlError(`Virtual host '${ctx.vhost}' does not exist`, EXIT.dataError);
        }
        throw err;
      }
      ctx.out.table(columns, items.map(spec.row ?? ((item) => item)));
    },
  };
}

const vhostPath = (ctx: CommandContext): string => segment(ctx.vhost);

async function exists(api: ManagementClient, path: string): Promise<Row | undefined> {
  try {
    return await api.get<Row>(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

async function requireVhost(ctx: CommandContext): Promise<void> {
  if ((await exists(ctx.api, `/api/vhosts/${vhostPath(ctx)}`)) === undefined) {
    throw new CtlError(`Virtual host '${ctx.vhost}' does not exist`, EXIT.dataError);
  }
}

async function requireUser(ctx: CommandContext, name: string): Promise<Row> {
  const user = await exists(ctx.api, `/api/users/${segment(name)}`);
  if (user === undefined) throw new CtlError(`User "${name}" does not exist`, EXIT.software);
  return user;
}

const tagsOf = (user: Row): string[] =>
  Array.isArray(user['tags'])
    ? (user['tags'] as string[])
    : String(user['tags'] ?? '')
        .split(',')
        .filter((t) => t !== '');

export const COMMANDS: Readonly<Record<string, Command>> = {
  list_queues: {
    ...list({
      describe: 'Lists queues and their properties',
      banner: (ctx) => `Listing queues for vhost ${ctx.vhost} ...`,
      path: (ctx) => `/api/queues/${vhostPath(ctx)}`,
      defaults: ['name', 'messages'],
    }),
  },
  list_exchanges: list({
    describe: 'Lists exchanges',
    banner: (ctx) => `Listing exchanges for vhost ${ctx.vhost} ...`,
    path: (ctx) => `/api/exchanges/${vhostPath(ctx)}`,
    defaults: ['name', 'type'],
  }),
  list_bindings: list({
    describe: 'Lists all bindings on a vhost',
    banner: (ctx) => `Listing bindings for vhost ${ctx.vhost}...`,
    path: (ctx) => `/api/bindings/${vhostPath(ctx)}`,
    defaults: [
      'source_name',
      'source_kind',
      'destination_name',
      'destination_kind',
      'routing_key',
      'arguments',
    ],
    row: (b) => ({
      ...b,
      source_name: b['source'],
      source_kind: 'exchange',
      destination_name: b['destination'],
      destination_kind: b['destination_type'],
    }),
  }),
  list_connections: list({
    describe: 'Lists AMQP, STOMP and Web-STOMP connections',
    banner: () => 'Listing connections ...',
    path: () => '/api/connections',
    defaults: ['user', 'peer_host', 'peer_port', 'state'],
  }),
  list_channels: list({
    describe: 'Lists all channels in the node',
    banner: () => 'Listing channels ...',
    path: () => '/api/channels',
    defaults: ['pid', 'user', 'consumer_count', 'messages_unacknowledged'],
    // Warren has no Erlang pids: a channel is known by its name, "<connection> (<number>)".
    row: (ch) => ({ ...ch, pid: ch['name'] }),
  }),
  list_consumers: list({
    describe: 'Lists all consumers for a vhost',
    banner: (ctx) => `Listing consumers in vhost ${ctx.vhost} ...`,
    path: (ctx) => `/api/consumers/${vhostPath(ctx)}`,
    defaults: [
      'queue_name',
      'channel_pid',
      'consumer_tag',
      'ack_required',
      'prefetch_count',
      'active',
      'arguments',
    ],
    row: (c) => ({
      ...c,
      queue_name: (c['queue'] as Row | undefined)?.['name'],
      channel_pid: (c['channel_details'] as Row | undefined)?.['name'],
    }),
  }),
  list_users: list({
    describe: 'Lists users',
    banner: () => 'Listing users ...',
    path: () => '/api/users',
    defaults: ['user', 'tags'],
    row: (u) => ({ ...u, user: u['name'], tags: tagsOf(u) }),
  }),
  list_vhosts: list({
    describe: 'Lists virtual hosts',
    banner: () => 'Listing vhosts ...',
    path: () => '/api/vhosts',
    defaults: ['name'],
  }),
  list_permissions: list({
    describe: 'Lists user permissions in a virtual host',
    banner: (ctx) => `Listing permissions for vhost "${ctx.vhost}" ...`,
    path: (ctx) => `/api/vhosts/${vhostPath(ctx)}/permissions`,
    defaults: ['user', 'configure', 'write', 'read'],
  }),
  list_user_permissions: {
    usage: '<username>',
    describe: 'Lists permissions of a user across all virtual hosts',
    arity: [1, 1],
    async run(ctx) {
      const [name] = ctx.args as [string];
      ctx.out.info(`Listing permissions for user "${name}" ...`);
      await requireUser(ctx, name);
      const items = await ctx.api.get<Row[]>(`/api/users/${segment(name)}/permissions`);
      ctx.out.table(['vhost', 'configure', 'write', 'read'], items);
    },
  },
  add_user: {
    usage: '<username> <password>',
    describe: 'Creates a new user in the internal database',
    arity: [2, 2],
    async run(ctx) {
      const [name, password] = ctx.args as [string, string];
      ctx.out.info(`Adding user "${name}" ...`);
      if ((await exists(ctx.api, `/api/users/${segment(name)}`)) !== undefined) {
        throw new CtlError(`User "${name}" already exists`, EXIT.software);
      }
      await ctx.api.put(`/api/users/${segment(name)}`, { password, tags: '' });
      ctx.out.info(
        "Done. Don't forget to grant the user permissions to some virtual hosts! " +
          "See 'warren ctl help set_permissions' to learn more.",
      );
    },
  },
  delete_user: {
    usage: '<username>',
    describe: 'Removes a user from the internal database; its connections are closed',
    arity: [1, 1],
    async run(ctx) {
      const [name] = ctx.args as [string];
      ctx.out.info(`Deleting user "${name}" ...`);
      await requireUser(ctx, name);
      await ctx.api.delete(`/api/users/${segment(name)}`);
    },
  },
  change_password: {
    usage: '<username> <new_password>',
    describe: "Changes the user's password",
    arity: [2, 2],
    async run(ctx) {
      const [name, password] = ctx.args as [string, string];
      ctx.out.info(`Changing password for user "${name}" ...`);
      const user = await requireUser(ctx, name);
      await ctx.api.put(`/api/users/${segment(name)}`, { password, tags: tagsOf(user).join(',') });
    },
  },
  set_user_tags: {
    usage: '<username> <tag> ...',
    describe: 'Sets user tags (administrator, monitoring, policymaker, management)',
    arity: [1, Infinity],
    async run(ctx) {
      const [name, ...tags] = ctx.args as [string, ...string[]];
      ctx.out.info(`Setting tags for user "${name}" to [${tags.join(', ')}] ...`);
      const user = await requireUser(ctx, name);
      // A PUT without a password keeps the stored hash.
      await ctx.api.put(`/api/users/${segment(name)}`, {
        password_hash: user['password_hash'],
        hashing_algorithm: user['hashing_algorithm'],
        tags: tags.join(','),
      });
    },
  },
  add_vhost: {
    usage: '<vhost>',
    describe: 'Creates a virtual host',
    arity: [1, 1],
    async run(ctx) {
      const [name] = ctx.args as [string];
      ctx.out.info(`Adding vhost "${name}" ...`);
      await ctx.api.put(`/api/vhosts/${segment(name)}`, {});
    },
  },
  delete_vhost: {
    usage: '<vhost>',
    describe: 'Deletes a virtual host, with its queues and exchanges; its connections are closed',
    arity: [1, 1],
    async run(ctx) {
      const [name] = ctx.args as [string];
      ctx.out.info(`Deleting vhost "${name}" ...`);
      if ((await exists(ctx.api, `/api/vhosts/${segment(name)}`)) === undefined) {
        throw new CtlError(`Virtual host '${name}' does not exist`, EXIT.dataError);
      }
      await ctx.api.delete(`/api/vhosts/${segment(name)}`);
    },
  },
  set_permissions: {
    usage: '[-p <vhost>] <username> <conf> <write> <read>',
    describe: 'Sets user permissions for a vhost',
    arity: [4, 4],
    async run(ctx) {
      const [user, configure, write, read] = ctx.args as [string, string, string, string];
      ctx.out.info(`Setting permissions for user "${user}" in vhost "${ctx.vhost}" ...`);
      await requireVhost(ctx);
      await ctx.api.put(`/api/permissions/${vhostPath(ctx)}/${segment(user)}`, { configure, write, read });
    },
  },
  clear_permissions: {
    usage: '[-p <vhost>] <username>',
    describe: 'Revokes user permissions for a vhost',
    arity: [1, 1],
    async run(ctx) {
      const [user] = ctx.args as [string];
      ctx.out.info(`Clearing permissions for user "${user}" in vhost "${ctx.vhost}" ...`);
      await requireVhost(ctx);
      await ctx.api.delete(`/api/permissions/${vhostPath(ctx)}/${segment(user)}`);
    },
  },
  delete_queue: {
    usage: '[-p <vhost>] <queue_name>',
    describe: 'Deletes a queue',
    arity: [1, 1],
    async run(ctx) {
      const [name] = ctx.args as [string];
      ctx.out.info(`Deleting queue '${name}' on vhost '${ctx.vhost}' ...`);
      const path = `/api/queues/${vhostPath(ctx)}/${segment(name)}`;
      const queue = await exists(ctx.api, path);
      if (queue === undefined)
        throw new CtlError(`Queue '${name}' in vhost '${ctx.vhost}' not found`, EXIT.software);
      await ctx.api.delete(path);
      ctx.out.result(
        `Queue was successfully deleted with ${Number(queue['messages_ready'] ?? 0)} ready messages`,
      );
    },
  },
  purge_queue: {
    usage: '[-p <vhost>] <queue>',
    describe: 'Purges a queue (removes all ready messages in it)',
    arity: [1, 1],
    async run(ctx) {
      const [name] = ctx.args as [string];
      ctx.out.info(`Purging queue '${name}' in vhost '${ctx.vhost}' ...`);
      const path = `/api/queues/${vhostPath(ctx)}/${segment(name)}`;
      if ((await exists(ctx.api, path)) === undefined) throw queueNotFound(name, ctx.vhost);
      await ctx.api.delete(`${path}/contents`);
    },
  },
  close_connection: {
    usage: '<connection_name> <explanation>',
    describe: 'Instructs the broker to close the connection with the given name',
    arity: [2, 2],
    async run(ctx) {
      const [name, reason] = ctx.args as [string, string];
      ctx.out.info(`Closing connection ${name}, reason: ${reason}...`);
      await ctx.api.delete(`/api/connections/${segment(name)}`, { 'x-reason': reason });
    },
  },
  export_definitions: {
    usage: '<file | "-">',
    describe: 'Exports definitions in JSON to a file, or to standard output with "-"',
    arity: [1, 1],
    async run(ctx) {
      const [file] = ctx.args as [string];
      const definitions = await ctx.api.get('/api/definitions');
      const text = JSON.stringify(definitions, null, 2);
      if (file === '-') {
        ctx.out.result(text);
        return;
      }
      ctx.out.info(`Exporting definitions in JSON to a file at "${file}" ...`);
      await writeFile(file, `${text}\n`);
    },
  },
  import_definitions: {
    usage: '<file>',
    describe: 'Imports definitions in JSON from a file',
    arity: [1, 1],
    async run(ctx) {
      const [file] = ctx.args as [string];
      ctx.out.info(`Importing definitions in JSON from a file at "${file}" ...`);
      let definitions: unknown;
      try {
        definitions = JSON.parse(await readFile(file, 'utf8'));
      } catch (err) {
        throw new CtlError(`cannot read definitions from ${file}: ${(err as Error).message}`, EXIT.dataError);
      }
      await ctx.api.post('/api/definitions', definitions);
      ctx.out.info('Successfully imported definitions.');
    },
  },
  status: {
    usage: '',
    describe: 'Displays status of the node',
    arity: [0, 0],
    async run(ctx) {
      const overview = await ctx.api.get<Row>('/api/overview');
      const node = String(overview['node'] ?? '');
      const [details] = await ctx.api.get<Row[]>('/api/nodes');
      ctx.out.info(`Status of node ${node} ...`);
      const totals = (overview['object_totals'] ?? {}) as Row;
      const lines: [string, unknown][] = [
        ['Product name', overview['product_name']],
        ['Product version', overview['product_version']],
        ['RabbitMQ compatibility', overview['rabbitmq_version']],
        ['Node name', node],
        ['Uptime (seconds)', Math.floor(Number(details?.['uptime'] ?? 0) / 1000)],
        ['Memory used (bytes)', details?.['mem_used']],
        ['Memory high watermark (bytes)', details?.['mem_limit']],
        ['Memory alarm', details?.['mem_alarm']],
        ['Free disk space (bytes)', details?.['disk_free']],
        ['Free disk space low watermark (bytes)', details?.['disk_free_limit']],
        ['Disk alarm', details?.['disk_free_alarm']],
        ['Connections', totals['connections']],
        ['Channels', totals['channels']],
        ['Queues', totals['queues']],
        ['Consumers', totals['consumers']],
      ];
      for (const [label, value] of lines) ctx.out.result(`${label}: ${String(value ?? '')}`);
      const listeners = (overview['listeners'] ?? []) as Row[];
      for (const l of listeners) {
        ctx.out.result(
          `Listener: ${String(l['ip_address'])}:${String(l['port'])}, protocol: ${String(l['protocol'])}`,
        );
      }
    },
  },
  ping: {
    usage: '',
    describe: 'Checks that the broker answers on its AMQP port (no credentials needed)',
    arity: [0, 0],
    async run(ctx) {
      const { host, port } = ctx.amqp;
      ctx.out.info(`Will ping Warren at ${host}:${port}. This checks that its AMQP listener answers.`);
      const result = await pingAmqp({ host, port, timeoutMs: ctx.timeoutMs });
      if (!result.ok) {
        throw new CtlError(`unable to ping Warren at ${host}:${port}: ${result.reason}`, EXIT.unavailable);
      }
      ctx.out.result('Ping succeeded');
    },
  },
  await_startup: {
    usage: '',
    describe: 'Waits until the broker serves clients (or the timeout passes)',
    arity: [0, 0],
    async run(ctx) {
      const { host, port } = ctx.amqp;
      const deadline = Date.now() + ctx.timeoutMs;
      for (;;) {
        const result = await pingAmqp({
          host,
          port,
          timeoutMs: Math.max(1, Math.min(5000, deadline - Date.now())),
        });
        if (result.ok) return;
        if (Date.now() >= deadline) {
          throw new CtlError(
            `Warren at ${host}:${port} did not start in time: ${result.reason}`,
            EXIT.tempFail,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
  },
  list_alarms: {
    usage: '',
    describe: 'Lists resource alarms (memory, disk) in effect',
    arity: [0, 0],
    async run(ctx) {
      const alarms = await activeAlarms(ctx);
      ctx.out.info('Asking the node to report any known resource alarms ...');
      ctx.out.table(
        ['resource'],
        alarms.map((resource) => ({ resource })),
      );
      if (alarms.length === 0) ctx.out.info('Node reported no alarms, local or clusterwide');
    },
  },
  check_alarms: {
    usage: '',
    describe: 'Exits 69 if any resource alarm is in effect',
    arity: [0, 0],
    async run(ctx) {
      ctx.out.info('Asking the node to report any local resource alarms ...');
      const alarms = await activeAlarms(ctx);
      if (alarms.length > 0) {
        throw new CtlError(`Node reported alarms: ${alarms.join(', ')}`, EXIT.unavailable);
      }
      ctx.out.info('Node reported no alarms, local or clusterwide');
    },
  },
};

function queueNotFound(name: string, vhost: string): CtlError {
  return new CtlError(`Queue '${name}' in vhost '${vhost}' not found`, EXIT.dataError);
}

async function activeAlarms(ctx: CommandContext): Promise<string[]> {
  const [node] = await ctx.api.get<Row[]>('/api/nodes');
  const alarms: string[] = [];
  if (node?.['mem_alarm'] === true) alarms.push('memory');
  if (node?.['disk_free_alarm'] === true) alarms.push('disk');
  return alarms;
}
