import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_PORTS_FREE, warrenSandbox, within, type LogLine, type WarrenProcess } from './warren-process';

/*
 * A data directory that cannot be used stops `warren start` at once with one fatal line naming the directory,
 * the step that failed and the system's reason. The cases fail for root too (the tests run as root), so none
 * relies on file modes.
 */

/** Generous: a healthy refusal takes a quarter of a second, most of it Node loading the modules. */
const EXIT_WITHIN_MS = 10_000;

const sandbox = warrenSandbox('warren-data-dir-');

function warren(args: readonly string[], wrapper: readonly string[] = []): WarrenProcess {
  return sandbox.spawn(['start', ...ALL_PORTS_FREE, ...args], {}, wrapper);
}

/** Starts warren on `dataDir`, waits for it to exit, and returns its only log line. */
async function refusal(dataDir: string, wrapper: readonly string[] = []): Promise<LogLine> {
  const proc = warren(['--data-dir', dataDir], wrapper);
  expect(await within(proc.exited, EXIT_WITHIN_MS, 'warren exit')).toBe(1);
  expect(proc.stderr()).toBe('');
  expect(proc.lines).toHaveLength(1);
  const [line] = proc.lines as [LogLine];
  expect(line).toMatchObject({ level: 60, dataDir });
  expect(line.msg).toMatch(new RegExp(`^cannot use data directory ${escape(dataDir)}: `));
  return line;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const onLinux = existsSync('/proc/self') ? test : test.skip;

describe('warren start refuses a data directory it cannot use', () => {
  test('a path under a regular file: create fails with ENOTDIR', async () => {
    const file = join(sandbox.dir, 'file');
    writeFileSync(file, '');
    const dataDir = join(file, 'data');
    const line = await refusal(dataDir);
    expect(line).toMatchObject({ step: 'create', code: 'ENOTDIR' });
    expect(line.msg).toContain(`create failed: ENOTDIR`);
  });

  test('a path that is a regular file: create fails, saying it is not a directory', async () => {
    const dataDir = join(sandbox.dir, 'file');
    writeFileSync(dataDir, '');
    const line = await refusal(dataDir);
    expect(line).toMatchObject({ step: 'create', code: 'ENOTDIR' });
    expect(line.msg).toContain('exists and is not a directory');
  });

  // procfs answers ENOENT for a name it will never hold; Node's recursive mkdir retried that forever.
  onLinux('a path under /proc: create fails with ENOENT instead of retrying mkdir', async () => {
    const line = await refusal('/proc/warren');
    expect(line).toMatchObject({ step: 'create', code: 'ENOENT' });
    expect(line.msg).toBe(
      "cannot use data directory /proc/warren: create failed: ENOENT: no such file or directory, mkdir '/proc/warren'",
    );
  });

  onLinux('a path under /sys: create fails', async () => {
    const line = await refusal('/sys/warren');
    expect(line).toMatchObject({ step: 'create', code: expect.stringMatching(/^E[A-Z]+$/) });
  });

  onLinux('an existing directory that takes no files (/proc): the write probe fails', async () => {
    const line = await refusal('/proc');
    expect(line).toMatchObject({ step: 'write' });
    expect(line.msg).toContain('write failed: ');
  });

  test("a journal path inside the data directory that is a regular file: the journal's create fails", async () => {
    const dataDir = join(sandbox.dir, 'data');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'journal'), '');
    const line = await refusal(dataDir);
    expect(line).toMatchObject({ step: 'create', code: 'ENOTDIR' });
    expect(line.msg).toContain(join(dataDir, 'journal'));
  });

  test('a data directory in use by a running broker: the lock fails, naming its pid', async () => {
    const dataDir = join(sandbox.dir, 'data');
    const first = warren(['--data-dir', dataDir]);
    await first.waitForLine('warren started');
    const line = await refusal(dataDir);
    expect(line).toMatchObject({ step: 'lock' });
    expect(line.msg).toContain(`lock failed: in use by process ${first.child.pid}`);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });

  // A read-only bind mount in a private mount namespace: only where `unshare -m` and mount are allowed.
  const readOnly = readOnlyBindWorks() ? test : test.skip;
  readOnly.each([
    ['a missing', 'create'],
    ['an existing', 'write'],
  ])('%s directory on a read-only mount: %s fails with EROFS', async (state, step) => {
    const mount = join(sandbox.dir, 'ro');
    const dataDir = join(mount, 'data');
    mkdirSync(state === 'an existing' ? dataDir : mount, { recursive: true });
    const line = await refusal(dataDir, readOnlyMountWrapper(mount));
    expect(line).toMatchObject({ step, code: 'EROFS' });
  });
});

/** `unshare -m sh -c` that bind-mounts `dir` read-only onto itself, then execs the rest of its arguments. */
function readOnlyMountWrapper(dir: string): string[] {
  const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"';
  return ['unshare', '-m', '--', 'sh', '-c', script, 'sh', dir];
}

function readOnlyBindWorks(): boolean {
  if (process.platform !== 'linux') return false;
  const probe = mkdtempSync(join(tmpdir(), 'warren-ro-probe-'));
  try {
    const [command, ...args] = readOnlyMountWrapper(probe) as [string, ...string[]];
    const result = spawnSync(command, [...args, 'sh', '-c', `! touch "${probe}/x" 2>/dev/null`]);
    return result.status === 0;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
