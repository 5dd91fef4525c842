// Seed 001, tutorials 1 and 2 (pika): send.py/receive.py and new_task.py/work.py, unchanged but for the broker address.
// Every program here uses the fixed queue name 'hello' — non-durable in the first versions, durable in the final
// work queue — so the tests share one file (jest runs a file's tests one at a time) and delete 'hello' around each.
import type { ChildProgram } from '../support/python';
import { useSeedBroker, LINE_TIMEOUT_MS, TEST_TIMEOUT_MS, bodies, runSeed, startSeed } from './helpers';
import { describeWith } from '../support/requires';

describeWith(['python3-pika'], 'pika: hello world and work queues', () => {
  const RECEIVED = /\[x\] Received b'(.*)'$/;

  const seed = useSeedBroker(() => ({ queues: ['hello'] }));

  /** Starts a worker and resolves once it has said it is waiting, i.e. after its basic.consume was answered. */
  async function startWorker(program: string): Promise<ChildProgram> {
    const worker = startSeed(program, seed.broker);
    await worker.waitForLine(/Waiting for messages/, LINE_TIMEOUT_MS);
    return worker;
  }

  describe('tutorial 1, Hello World! (send.py / receive.py)', () => {
    test(
      "receive.py prints the 'Hello World!' that send.py publishes to queue hello through the default exchange",
      async () => {
        const receiver = startSeed('pika/receive.py', seed.broker);
        await receiver.waitForLine(/\[x\] Waiting for messages/, LINE_TIMEOUT_MS);

        const sender = await runSeed('pika/send.py', seed.broker);
        expect(sender.stdout).toEqual(["[x] Sent 'Hello World!'"]);

        await receiver.waitForLine(/\[x\] Received b'Hello World!'/, LINE_TIMEOUT_MS);
        expect(bodies(receiver, RECEIVED)).toEqual(['Hello World!']);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'a message sent before any receiver runs waits in queue hello, and receive.py gets it when it starts',
      async () => {
        await runSeed('pika/send.py', seed.broker);
        await runSeed('pika/send.py', seed.broker);
        expect(await seed.admin.queueState('hello')).toEqual({
          exists: true,
          messageCount: 2,
          consumerCount: 0,
        });

        const receiver = startSeed('pika/receive.py', seed.broker);
        await receiver.waitForLines(RECEIVED, 2, LINE_TIMEOUT_MS);
        expect(bodies(receiver, RECEIVED)).toEqual(['Hello World!', 'Hello World!']);
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('tutorial 2, work queues (new_task.py / work.py)', () => {
    test(
      'two workers get First..Fifth message round-robin: the first worker First, Third, Fifth; the second Second, Fourth',
      async () => {
        // As in the seed's three shells: start worker 1, then worker 2, then publish the five tasks one by one.
        const first = await startWorker('pika/work.py');
        const second = await startWorker('pika/work.py');

        for (const task of ['First message.', 'Second message..', 'Third message...', 'Fourth message....']) {
          await runSeed('pika/new_task.py', seed.broker, task);
        }
        const sent = await runSeed('pika/new_task.py', seed.broker, 'Fifth message.....');
        expect(sent.stdout).toEqual(["[x] Sent 'Fifth message.....'"]);

        // work.py sleeps one second per dot after printing, so worker 1 prints Fifth about 4 s after First.
        await first.waitForLines(RECEIVED, 3, LINE_TIMEOUT_MS);
        await second.waitForLines(RECEIVED, 2, LINE_TIMEOUT_MS);
        expect(bodies(first, RECEIVED)).toEqual(['First message.', 'Third message...', 'Fifth message.....']);
        expect(bodies(second, RECEIVED)).toEqual(['Second message..', 'Fourth message....']);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'a task whose worker is killed (SIGKILL) before it acks is redelivered to the other worker',
      async () => {
        const workers = [await startWorker('pika/work_final.py'), await startWorker('pika/work_final.py')];

        // Twenty dots: the worker that takes it is still "working" (sleeping, unacked) when it is killed.
        const task = `Slow task${'.'.repeat(20)}`;
        await runSeed('pika/new_task_final.py', seed.broker, task);

        const busy = await firstToPrint(workers, RECEIVED);
        const other = workers.find((w) => w !== busy) as ChildProgram;
        expect(bodies(busy, RECEIVED)).toEqual([task]);
        expect(other.linesMatching(RECEIVED)).toEqual([]);

        await busy.stop('SIGKILL');
        await other.waitForLine(RECEIVED, LINE_TIMEOUT_MS);
        expect(bodies(other, RECEIVED)).toEqual([task]);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'with basic_qos(prefetch_count=1) a busy worker gets no new task: the idle worker takes them all (fair dispatch)',
      async () => {
        const workers = [await startWorker('pika/work_final.py'), await startWorker('pika/work_final.py')];

        const long = `Long task${'.'.repeat(30)}`;
        await runSeed('pika/new_task_final.py', seed.broker, long);
        const busy = await firstToPrint(workers, RECEIVED);
        const idle = workers.find((w) => w !== busy) as ChildProgram;

        // Without prefetch_count=1 round-robin would push Quick 2 and Quick 4 to the busy worker, to wait behind the
        // long task. With it, the broker sends a worker nothing while it has an unacked message.
        const quick = ['Quick 1', 'Quick 2', 'Quick 3', 'Quick 4'];
        for (const task of quick) await runSeed('pika/new_task_final.py', seed.broker, task);

        await idle.waitForLines(/\[x\] Done\./, quick.length, LINE_TIMEOUT_MS);
        expect(bodies(idle, RECEIVED)).toEqual(quick);
        expect(bodies(busy, RECEIVED)).toEqual([long]);
        // The long task is still unacked, the queue holds nothing else, and both workers are still consuming.
        expect(await seed.admin.queueState('hello')).toEqual({
          exists: true,
          messageCount: 0,
          consumerCount: 2,
        });
      },
      TEST_TIMEOUT_MS,
    );

    test(
      "declaring 'hello' durable=True where a non-durable 'hello' exists fails with 406 PRECONDITION_FAILED, as the tutorial warns",
      async () => {
        await runSeed('pika/send.py', seed.broker);

        const durable = startSeed('pika/new_task_final.py', seed.broker, 'never sent');
        const status = await durable.waitForExit(LINE_TIMEOUT_MS);
        expect(status.code).not.toBe(0);
        expect(durable.stderr.join('\n')).toContain(
          "pika.exceptions.ChannelClosedByBroker: (406, \"PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'hello' in vhost '/': received 'true' but current is 'false'\")",
        );
        // The existing queue and its message are untouched.
        expect(await seed.admin.queueState('hello')).toEqual({
          exists: true,
          messageCount: 1,
          consumerCount: 0,
        });
      },
      TEST_TIMEOUT_MS,
    );
  });

  /** The worker that prints a matching line first (the one the broker chose). */
  function firstToPrint(workers: readonly ChildProgram[], pattern: RegExp): Promise<ChildProgram> {
    return Promise.any(workers.map((w) => w.waitForLine(pattern, LINE_TIMEOUT_MS).then(() => w)));
  }
});
