import { DirectoryError, makeDirectory, probeWritable, type DirectoryStep } from '@warren/journal';

/**
 * The data directory cannot be used: it cannot be created, written or locked. Its message is the one line an
 * operator needs, naming the directory, the step and the system's reason, e.g.
 * `cannot use data directory /proc/warren: create failed: ENOENT: no such file or directory, mkdir '/proc/warren'`.
 */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';

  constructor(
    readonly dataDir: string,
    override readonly cause: DirectoryError,
  ) {
    super(`cannot use data directory ${dataDir}: ${cause.step} failed: ${cause.detail}`, { cause });
  }

  get step(): DirectoryStep {
    return this.cause.step;
  }

  get code(): string | undefined {
    return this.cause.code;
  }
}

/**
 * Creates the data directory and proves it takes data (write + fdatasync + remove of a probe file) before the
 * journal opens, so a directory that can never work stops the start at once instead of surfacing later as a
 * journal retrying a write forever.
 */
export async function prepareDataDir(dataDir: string): Promise<void> {
  try {
    await makeDirectory(dataDir);
  } catch (err) {
    throw new DataDirError(dataDir, new DirectoryError(dataDir, 'create', err));
  }
  try {
    await probeWritable(dataDir);
  } catch (err) {
    throw new DataDirError(dataDir, new DirectoryError(dataDir, 'write', err));
  }
}
