import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** What was being done to a directory when it turned out unusable. */
export type DirectoryStep = 'create' | 'write' | 'lock';

/**
 * A directory the store cannot use, and why: which step failed and the system's own words for it. Raised at
 * open, once, so the broker can refuse to start with one line instead of retrying what will never work.
 */
export class DirectoryError extends Error {
  override readonly name = 'DirectoryError';
  /** The errno code of the cause ('ENOENT', 'EROFS', ...), when it had one. */
  readonly code: string | undefined;
  /** The cause's message alone, for a caller that words its own sentence around it. */
  readonly detail: string;

  constructor(
    readonly path: string,
    readonly step: DirectoryStep,
    cause: unknown,
  ) {
    // Not `instanceof Error`: errors made in another realm (a vm context, as under jest) are not instances.
    const message = (cause as { message?: unknown } | undefined)?.message;
    const detail = typeof message === 'string' ? message : String(cause);
    super(`cannot use directory ${path}: ${step} failed: ${detail}`, { cause });
    this.detail = detail;
    this.code = errnoCode(cause);
  }
}

/**
 * `mkdir -p` that always ends. Node 20's `mkdir(path, { recursive: true })` loops forever, sync and async,
 * when a path's parent exists but the child can never be made: procfs answers ENOENT for `/proc/warren`, so
 * Node creates the parent (EEXIST: fine), retries the child (ENOENT again), and so on, thousands of times a
 * second on the thread pool with no error ever surfacing. Here a child that is still ENOENT once its parent
 * exists is an answer, not a reason to walk up again.
 */
export async function makeDirectory(path: string): Promise<void> {
  try {
    await mkdir(path);
    return;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EEXIST') return mustBeDirectory(path);
    if (code !== 'ENOENT' || dirname(path) === path) throw err;
  }
  await makeDirectory(dirname(path));
  try {
    await mkdir(path);
  } catch (err) {
    // EEXIST: another process made it between our two tries, which is as good as making it ourselves.
    if (errnoCode(err) !== 'EEXIST') throw err;
    await mustBeDirectory(path);
  }
}

/** mkdir reports EEXIST for a regular file or a symlink too; only a directory (or a link to one) will do. */
async function mustBeDirectory(path: string): Promise<void> {
  const s = await stat(path);
  if (!s.isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: exists and is not a directory, mkdir '${path}'`), {
      code: 'ENOTDIR',
      syscall: 'mkdir',
      path,
    });
  }
}

/**
 * Proves the directory takes data: a small file is created, written, fdatasync'd and removed. Permissions
 * alone cannot tell (root ignores them; a read-only mount, a full disk or a pseudo file system like /proc or
 * /sys refuse anyway), so the probe does what the journal is about to do.
 */
export async function probeWritable(dir: string): Promise<void> {
  // The pid keeps two brokers probing the same directory at once off each other's file; 'w' rather than
  // 'wx' because a leftover of a killed run with the same pid (pid 1 in a container) is ours to reuse.
  const path = join(dir, `.warren-probe-${process.pid}`);
  const fh = await open(path, 'w');
  try {
    await fh.writeFile('warren write probe\n');
    await fh.datasync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(path).catch(() => {});
    throw err;
  }
  await fh.close();
  await unlink(path);
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
