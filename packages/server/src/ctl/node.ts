import { pingAmqp } from '../ping';
import { CtlError, EXIT } from './client';
import type { Command, CommandContext, Row } from './command';

/** The node's health: status, ping, await_startup and the resource alarms. */
export const NODE_COMMANDS: Readonly<Record<string, Command>> = {
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

async function activeAlarms(ctx: CommandContext): Promise<string[]> {
  const [node] = await ctx.api.get<Row[]>('/api/nodes');
  const alarms: string[] = [];
  if (node?.['mem_alarm'] === true) alarms.push('memory');
  if (node?.['disk_free_alarm'] === true) alarms.push('disk');
  return alarms;
}
