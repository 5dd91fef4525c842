import type { FastifyInstance } from 'fastify';
import type { Item } from './listing';

/**
 * The other nodes of a cluster, as the management API asks them (packages/server adapts a cluster node to
 * this). RabbitMQ answers for the whole cluster from whichever node a request reaches. Topology is on every
 * node already; connections, channels and consumers live on one node each, so a list of them is this node's
 * own plus what every other running node answers for its own:
 *
 *   node         that node's /api/nodes entry
 *   overview     {listeners, vhosts: {vhost: [connections, channels]}}: its part of /api/overview
 *   connections  its connections, shaped as /api/connections lists them
 *   channels     its channels, shaped as /api/channels lists them
 *   consumers    its consumers, shaped as /api/consumers lists them
 *   close        {name, reason}: closes its connection of that name; true if it had one
 *
 * Answers are rows as that node shapes them, for every user: the node a request reached decides what its
 * caller may see, by the rows' user and vhost, exactly as it does for its own rows.
 */
export interface ClusterPeers {
  /** This node's name in the cluster. */
  readonly node: string;
  /** Every node this one has heard of, itself first, and whether each is running. */
  nodes(): readonly { readonly name: string; readonly running: boolean }[];
  /** Asks every other running node; the answers that came within a bounded wait, each with its node. */
  ask(
    question: Question,
    args: unknown,
  ): Promise<readonly { readonly node: string; readonly answer: unknown }[]>;
  /** Answers `question` for the other nodes from now on; returns how to stop. */
  answerWith(question: Question, answerer: (args: unknown) => unknown): () => void;
}

export type Question = 'node' | 'overview' | 'connections' | 'channels' | 'consumers' | 'close';

export const isItem = (v: unknown): v is Item => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Each other node's answer that is an object; none outside a cluster. */
export async function askEach(
  cluster: ClusterPeers | undefined,
  question: Question,
  args: unknown = null,
): Promise<{ node: string; answer: Item }[]> {
  if (cluster === undefined) return [];
  const answers = await cluster.ask(question, args);
  return answers.flatMap(({ node, answer }) => (isItem(answer) ? [{ node, answer }] : []));
}

/** The rows every other node answered `question` with, in one list; none outside a cluster. */
export async function remoteRows(cluster: ClusterPeers | undefined, question: Question): Promise<Item[]> {
  if (cluster === undefined) return [];
  const answers = await cluster.ask(question, null);
  return answers.flatMap(({ answer }) => (Array.isArray(answer) ? answer.filter(isItem) : []));
}

/** Answers `question` for the other nodes while the app is open; nothing outside a cluster. */
export function answerWhileOpen(
  app: FastifyInstance,
  cluster: ClusterPeers | undefined,
  question: Question,
  answerer: (args: unknown) => unknown,
): void {
  if (cluster === undefined) return;
  const stop = cluster.answerWith(question, answerer);
  app.addHook('onClose', async () => stop());
}
