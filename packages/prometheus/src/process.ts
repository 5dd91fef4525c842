import { readdir, readFile } from 'node:fs/promises';

/**
 * Open and maximum file descriptors, from /proc as rabbitmq_prometheus reads them on Linux; undefined where
 * there is no /proc (macOS), and the two gauges are left out rather than reported as 0.
 */
export async function fdCounts(): Promise<{ open: number; max: number } | undefined> {
  try {
    const [fds, limits] = await Promise.all([
      readdir('/proc/self/fd'),
      readFile('/proc/self/limits', 'utf8'),
    ]);
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
    // readdir itself holds one descriptor open while it lists them.
    return { open: fds.length - 1, max: soft === undefined || soft === 'unlimited' ? -1 : Number(soft) };
  } catch {
    return undefined;
  }
}
