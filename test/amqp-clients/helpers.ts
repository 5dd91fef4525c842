import { join } from 'node:path';
import { connect, type Channel, type ChannelModel, type GetMessage } from 'amqplib';
import {
  killAllPrograms,
  runPython,
  startPython,
  type BrokerAddress,
  type ChildProgram,
  type ProgramOptions,
} from '../support/python';
import { startWarren, type TestBroker } from '../support/warren';

/** The seed programs, as files (see README.md). */
export const PROGRAMS = join(__dirname, 'programs');
/** Client-API shims put on PYTHONPATH for the seed programs only. */
export const SHIMS = join(__dirname, 'shims');

/** Generous deadlines: CI runs this suite on 2 shared cores, and every step starts a Python interpreter. */
export const LINE_TIMEOUT_MS = 20_000;
export const TEST_TIMEOUT_MS = 90_000;

/** Starts a seed program (path under programs/) with the shims on PYTHONPATH. */
export function startSeed(program: string, broker: BrokerAddress, ...args: string[]): ChildProgram {
  return startPython(join(PROGRAMS, program), broker, { args, pythonPath: [SHIMS] });
}

/** Runs a seed program to completion; rejects unless it exits 0. */
export function runSeed(program: string, broker: BrokerAddress, ...args: string[]): Promise<ChildProgram> {
  return runPython(join(PROGRAMS, program), broker, { args, pythonPath: [SHIMS] }, LINE_TIMEOUT_MS);
}

/** Runs a non-seed program under programs/ without the shims (it uses today's client APIs). */
export function runProgram(
  program: string,
  broker: BrokerAddress,
  options: ProgramOptions = {},
): Promise<ChildProgram> {
  return runPython(join(PROGRAMS, program), broker, options, LINE_TIMEOUT_MS);
}

/** A name no other test or earlier run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** What a passive queue.declare from another connection says about a queue. */
export type QueueState =
  | { readonly exists: true; readonly messageCount: number; readonly consumerCount: number }
  | { readonly exists: false; readonly code: number | undefined; readonly message: string };

/**
 * The test's own view of the broker, through the amqplib npm client, for what a RabbitMQ user checks with
 * rabbitmqctl or the management UI (does the queue exist, how many messages and consumers) and for deleting the
 * fixed-name queues the seed programs declare. Each operation gets a fresh channel, because a failed one (404, 405)
 * closes its channel.
 */
export class BrokerAdmin {
  private constructor(private readonly model: ChannelModel) {}

  static async open(broker: BrokerAddress): Promise<BrokerAdmin> {
    const model = await connect(`amqp://guest:guest@${broker.host}:${broker.amqpPort}`);
    // A channel closed by the broker is reported through the rejected operation; the event is expected.
    model.on('error', () => {});
    return new BrokerAdmin(model);
  }

  async close(): Promise<void> {
    await this.model.close();
  }

  /** Deletes queues whether they exist or not (RabbitMQ answers queue.delete of a missing queue with delete-ok). */
  async deleteQueues(...names: string[]): Promise<void> {
    for (const name of names) await this.withChannel((ch) => ch.deleteQueue(name));
  }

  async deleteExchanges(...names: string[]): Promise<void> {
    for (const name of names) await this.withChannel((ch) => ch.deleteExchange(name));
  }

  async queueState(name: string): Promise<QueueState> {
    try {
      const ok = await this.withChannel((ch) => ch.checkQueue(name));
      return { exists: true, messageCount: ok.messageCount, consumerCount: ok.consumerCount };
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      const code = (err as Error & { code?: unknown }).code;
      return { exists: false, code: typeof code === 'number' ? code : undefined, message: err.message };
    }
  }

  /** Polls the queue until `accept` holds or the deadline passes (for effects the broker applies asynchronously). */
  async waitForQueueState(
    name: string,
    accept: (state: QueueState) => boolean,
    timeoutMs = LINE_TIMEOUT_MS,
  ): Promise<QueueState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.queueState(name);
      if (accept(state)) return state;
      if (Date.now() > deadline)
        throw new Error(`queue ${name} never reached the state; last: ${JSON.stringify(state)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** basic.get with auto-ack: removes the message it returns. */
  async get(queue: string): Promise<GetMessage | false> {
    return this.withChannel((ch) => ch.get(queue, { noAck: true }));
  }

  private async withChannel<T>(use: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await this.model.createChannel();
    channel.on('error', () => {});
    let closed = false;
    channel.on('close', () => {
      closed = true;
    });
    try {
      return await use(channel);
    } finally {
      if (!closed) await channel.close().catch(() => {});
    }
  }
}

/** Pulls the body out of a pika/py-amqp "Received" line, e.g. `[x] Received b'First message.'` → First message. */
export function bodies(program: ChildProgram, pattern: RegExp): string[] {
  return program.linesMatching(pattern).map((line) => pattern.exec(line)?.[1] ?? line);
}

/** Queues and exchanges a suite's programs leave behind under fixed names. */
export interface Leftovers {
  readonly queues?: readonly string[];
  readonly exchanges?: readonly string[];
}

/** A started broker and an admin connection to it, set once the suite's beforeAll has run. */
export interface SeedBroker {
  readonly broker: TestBroker;
  readonly admin: BrokerAdmin;
}

/**
 * The hooks of a real-client suite: one broker and admin connection for the file; before and after each test
 * no program left running and no leftovers (a consumer or queue from an interrupted run would answer the next
 * test); everything closed at the end. `leftovers` is read at each cleanup, so names made during tests count.
 */
export function useSeedBroker(leftovers: () => Leftovers = () => ({})): SeedBroker {
  const seed = {} as { broker: TestBroker; admin: BrokerAdmin };
  const cleanSlate = async (): Promise<void> => {
    await killAllPrograms();
    const { queues = [], exchanges = [] } = leftovers();
    await seed.admin?.deleteQueues(...queues);
    await seed.admin?.deleteExchanges(...exchanges);
  };
  beforeAll(async () => {
    seed.broker = await startWarren();
    seed.admin = await BrokerAdmin.open(seed.broker);
  });
  beforeEach(cleanSlate);
  afterEach(cleanSlate);
  afterAll(async () => {
    await cleanSlate();
    await seed.admin?.close();
    await seed.broker?.close();
  });
  return seed;
}
