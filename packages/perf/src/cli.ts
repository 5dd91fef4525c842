/**
 * The warren-perf command. Exit status as amqp-load: 0 ok, 1 connection/protocol error, 2 bad flags.
 */
import { parseOptions, USAGE, UsageError } from './options';
import { stdOutput, type Output } from './output';
import { runScenario } from './run';

export async function main(argv: readonly string[], out: Output | undefined = undefined): Promise<number> {
  let options;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    (out ?? stdOutput(false)).error(`${err.message}\n${USAGE}`);
    return 2;
  }
  const o = out ?? stdOutput(options?.json ?? false);
  if (options === undefined) {
    o.usage(USAGE);
    return 0;
  }
  let status = 0;
  for (let i = 0; i < options.repeat; i++) {
    try {
      const result = await runScenario(options, options.progress ? { progress: (p) => o.progress(p) } : {});
      o.result(result);
      if (result['ok'] !== true) status = 1;
    } catch (err) {
      // A failure before the run started (connect, login, declare): no figures, but still one line per run.
      const message = err instanceof Error ? err.message : String(err);
      if (options.json) o.result({ tool: 'warren-perf', label: options.label, ok: false, error: message });
      else o.error(message);
      return 1;
    }
  }
  return status;
}
