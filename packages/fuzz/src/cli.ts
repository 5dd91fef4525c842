import { fuzz, withTargets } from './run';

const USAGE = `usage: npm run fuzz -- <target|all> [--runs N] [--seed S]
       npm run fuzz -- --list`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** `warren-fuzz <target|all> --runs N --seed S`: exit code 1 when an invariant broke. */
export async function main(args: string[]): Promise<number> {
  return withTargets(async (targets) => {
    if (args.includes('--list')) {
      for (const t of targets) process.stdout.write(`${t.name.padEnd(14)} ${t.description}\n`);
      return 0;
    }
    const name = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
    const runs = Number(option(args, '--runs') ?? 1000);
    const seedText = option(args, '--seed');
    if (name === undefined || !Number.isInteger(runs) || runs < 1) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    const chosen = name === 'all' ? targets : targets.filter((t) => t.name === name);
    if (chosen.length === 0) {
      process.stderr.write(`no target '${name}'; --list shows them\n`);
      return 2;
    }
    let failed = 0;
    for (const target of chosen) {
      const result = await fuzz(target, {
        runs,
        ...(seedText === undefined ? {} : { seed: Number(seedText) }),
        progress: (done) => process.stderr.write(`  ${target.name}: ${done} inputs\n`),
        every: Math.max(10000, Math.floor(runs / 20)),
      });
      const rate = Math.round(result.runs / result.seconds);
      const status = result.failure === undefined ? 'ok' : 'INVARIANT BROKEN';
      process.stdout.write(
        `${result.target}: ${result.runs} inputs in ${result.seconds.toFixed(1)} s (${rate}/s), seed ${result.seed}: ${status}\n`,
      );
      if (result.failure !== undefined) {
        failed++;
        process.stdout.write(`${result.failure}\n`);
      }
    }
    return failed === 0 ? 0 : 1;
  });
}
