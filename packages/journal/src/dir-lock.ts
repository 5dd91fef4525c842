import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

const LOCK_FILE = 'LOCK';

/**
 * One process per journal directory. Two brokers appending to the same segments would corrupt each other's
 * records, so the second refuses to start, naming the first. The lock is a file holding the owner's pid,
 * created exclusively; a lock whose process is gone (kill -9, power loss) is stale and taken over. The pid is
 * checked rather than trusted, and our own pid counts as stale: in a container the broker is always pid 1.
 */
export class DirLock {
  private constructor(private readonly path: string) {}

  static async acquire(dir: string): Promise<DirLock> {
    const path = join(dir, LOCK_FILE);
    for (let attempt = 0; ; attempt++) {
      try {
        const fh = await open(path, 'wx');
        try {
          await fh.writeFile(`${process.pid}\n`);
        } finally {
          await fh.close();
        }
        return new DirLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      }
      const owner = await readOwner(path);
      if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
        // The directory is named by the DirectoryError this becomes in Journal.open.
        throw new Error(`in use by process ${owner} (remove ${path} if it is not)`);
      }
      // Stale: its owner died without releasing it. Gone now, or taken by a racing process (EEXIST again).
      await unlink(path).catch(() => {});
    }
  }

  async release(): Promise<void> {
    await unlink(this.path).catch(() => {});
  }
}

async function readOwner(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user, which is alive enough.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
