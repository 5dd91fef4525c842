import { readFile, writeFile } from 'node:fs/promises';
import { CtlError, EXIT, segment } from './client';
import { exists, queueNotFound, requireUser, requireVhost, tagsOf, vhostPath, type Command } from './command';

/** The commands that change the broker: users, vhosts, permissions, queues, connections, definitions. */
export const ADMIN_COMMANDS: Readonly<Record<string, Command>> = {
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
};
