import { ConfigError } from './config';
import { loadConfig } from './load-config';
import { pingAmqp } from './ping';

/** rabbitmqctl's status for "the node is not running or not reachable" (EX_UNAVAILABLE). */
export const EXIT_UNAVAILABLE = 69;

const PING_TIMEOUT_MS = 5000;

/**
 * `warren ctl <verb>`: the operator's commands, named as rabbitmqctl names them. Only `ping` so far (the
 * Docker HEALTHCHECK's probe); it reads the same settings as `warren start` (flags aside), so it finds the
 * broker wherever the environment or the config file moved it.
 */
export async function ctl(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb !== 'ping' || rest.length > 0) {
    process.stderr.write(`warren ctl: unknown command "${argv.join(' ')}"\nCommands: ping\n`);
    return 2;
  }
  let port: number;
  let host: string;
  try {
    const config = loadConfig({ env });
    port = config.amqp.port;
    host = connectableHost(config.amqp.host);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`warren ctl: ${err.message}\n`);
    return 2;
  }
  const result = await pingAmqp({ host, port, timeoutMs: PING_TIMEOUT_MS });
  if (result.ok) {
    process.stdout.write('Ping succeeded\n');
    return 0;
  }
  process.stderr.write(`Error: unable to ping Warren at ${host}:${port}: ${result.reason}\n`);
  return EXIT_UNAVAILABLE;
}

/** A wildcard bind address is reached over loopback; a specific one as it is. */
function connectableHost(bind: string): string {
  return bind === '::' || bind === '0.0.0.0' ? '127.0.0.1' : bind;
}
