import { ApiError, CtlError, EXIT, segment } from './client';
import { requireUser, tagsOf, vhostPath, type Command, type CommandContext, type Row } from './command';

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

/** rabbitmqctl's list_* commands: the columns asked for, or the ones rabbitmqctl shows by default. */
export const LIST_COMMANDS: Readonly<Record<string, Command>> = {
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
};
