import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = 'cluster-permanent-id';

/**
 * rabbitmq_cluster_permanent_id: generated once, as RabbitMQ does ("rabbitmq-cluster-id-" and 16 random bytes),
 * and kept in the data directory so a restart reports the same cluster. Dashboards join on it.
 */
export async function clusterPermanentId(dataDir: string): Promise<string> {
  const path = join(dataDir, FILE);
  const kept = await readFile(path, 'utf8').catch(() => '');
  if (kept.trim() !== '') return kept.trim();
  const id = `rabbitmq-cluster-id-${randomBytes(16).toString('base64url')}`;
  await writeFile(path, `${id}\n`, { flag: 'wx' }).catch(() => undefined);
  // Another start may have won the race to create it: whatever is in the file is the id.
  return (await readFile(path, 'utf8').catch(() => id)).trim();
}
