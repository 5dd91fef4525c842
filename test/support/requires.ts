import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SYSTEM_PYTHON } from './python';

/**
 * Suites that drive a client only Debian packages provide. On a machine without the package the suite is
 * skipped with one line, "skipped: install <package>", so `npm install && npm test` passes with Node alone;
 * under CI (CI=true, as `.ci/run` sets it) a missing package fails the suite instead, so CI can never pass by
 * skipping the real clients.
 *
 * Each package is probed by using it, not by asking dpkg: a client that cannot run (a pyenv interpreter
 * in front of Debian's, a module hidden from this process) must count as missing.
 */

/** The nats-server binary as packages/cluster/src/testing/nats-cluster.ts resolves it. */
function natsServer(): string {
  const env = process.env['NATS_SERVER'];
  if (env !== undefined && env !== '') return env;
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';
}

/** Each Debian package a suite may need, and the command that succeeds only when it is usable. */
const PROBES = {
  'python3-pika': [SYSTEM_PYTHON, '-c', 'import pika'],
  'python3-amqp': [SYSTEM_PYTHON, '-c', 'import amqp'],
  'python3-kombu': [SYSTEM_PYTHON, '-c', 'import kombu'],
  'python3-stomp': [SYSTEM_PYTHON, '-c', 'import stomp'],
  'libnet-stomp-perl': ['perl', '-MNet::Stomp', '-e', '1'],
  'amqp-tools': ['amqp-publish', '--help'],
  chromium: ['chromium', '--version'],
  openssl: ['openssl', 'version'],
  // rabbitmqadmin, the management API's command-line client, ships in Debian's rabbitmq-server.
  'rabbitmq-server': ['rabbitmqadmin', '--version'],
  // The Nagios checks are Perl scripts: compiling one proves Perl has the modules they load.
  'nagios-plugins-rabbitmq': ['perl', '-c', '/usr/bin/check_rabbitmq_overview'],
  // Debian's prometheus ships both the server and promtool, the format checker.
  prometheus: ['promtool', '--version'],
  // The cluster tests start real NATS servers (JetStream clusters of three); Debian's is 2.9.10. Probed where
  // @warren/cluster's startNatsCluster looks for it: /usr/sbin is not on a non-root user's PATH.
  'nats-server': [natsServer(), '--version'],
  // util-linux's script(1), which gives a child a terminal (macOS's script has other flags).
  bsdutils: ['script', '--version'],
} as const satisfies Record<string, readonly [string, ...string[]]>;

export type DebianPackage = keyof typeof PROBES;

const known = new Map<DebianPackage, boolean>();

/** Whether the package's client can run here (probed once per test file). */
export function hasPackage(pkg: DebianPackage): boolean {
  let ok = known.get(pkg);
  if (ok === undefined) {
    const [command, ...args] = PROBES[pkg];
    const probe = spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 });
    ok = probe.status === 0;
    known.set(pkg, ok);
  }
  return ok;
}

/** CI as `.ci/run` and most CI services set it; CI=false or CI=0 is a developer saying "not CI". */
export function inCi(): boolean {
  const ci = process.env['CI'];
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/**
 * `describe(title, body)` when every package is usable. Otherwise the suite is skipped and says so once, with
 * the apt-get line that would enable it; under CI it fails with the same line instead.
 */
export function describeWith(packages: readonly DebianPackage[], title: string, body: () => void): void {
  const missing = packages.filter((pkg) => !hasPackage(pkg));
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const line = `skipped: install ${missing.join(' ')}`;
  if (inCi()) {
    describe(title, () => {
      test(line, () => {
        throw new Error(
          `${line} (CI is set, and CI must run every real client: apt-get install ${missing.join(' ')})`,
        );
      });
    });
    return;
  }
  // stderr, not console.log: jest prints console output with a stack trace; this is one line per suite.
  process.stderr.write(`${title}: ${line}\n`);
  describe.skip(`${title} (${line})`, body);
}
