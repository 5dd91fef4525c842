// Seed 001, tutorials 3-5 (pika): fanout 'logs', direct 'direct_logs' and topic 'topic_logs', each receiver on an
// exclusive server-named queue. The exchange names are the seed's; no other test file publishes to them.
import type { ChildProgram } from '../support/python';
import { useSeedBroker, LINE_TIMEOUT_MS, TEST_TIMEOUT_MS, runSeed, startSeed } from './helpers';
import { describeWith } from '../support/requires';

describeWith(['python3-pika'], 'pika: the exchange tutorials', () => {
  const seed = useSeedBroker();

  /** Starts a receiver; resolves once its queue is bound (it prints "Waiting for logs" right after queue_bind). */
  async function startReceiver(program: string, ...args: string[]): Promise<ChildProgram> {
    const receiver = startSeed(program, seed.broker, ...args);
    await receiver.waitForLine(/\[\*\] Waiting for logs/, LINE_TIMEOUT_MS);
    return receiver;
  }

  /** The queue name the broker gave the receiver's queue_declare(exclusive=True), as the shim traced it. */
  async function serverNamedQueue(receiver: ChildProgram): Promise<string> {
    const line = await receiver.waitForStderrLine(/queue\.declare-ok queue=/, LINE_TIMEOUT_MS);
    return /queue=(\S+)/.exec(line)?.[1] ?? '';
  }

  /** `[x] 'severity':b'body'` lines as [routing key, body] pairs. */
  function routed(receiver: ChildProgram): Array<[string, string]> {
    return receiver
      .linesMatching(/\[x\] '/)
      .map((line) => /\[x\] '(.*)':b'(.*)'$/.exec(line))
      .map((m) => [m?.[1] ?? '?', m?.[2] ?? '?']);
  }

  describe('tutorial 3, publish/subscribe (emit_log.py / receive_logs.py)', () => {
    test(
      'every receive_logs.py gets each message emit_log.py publishes to the fanout exchange logs',
      async () => {
        const receivers = [
          await startReceiver('pika/receive_logs.py'),
          await startReceiver('pika/receive_logs.py'),
        ];

        const emitter = await runSeed('pika/emit_log.py', seed.broker);
        expect(emitter.stdout).toEqual([` [x] Sent 'info: Hello World!'`]);
        await runSeed('pika/emit_log.py', seed.broker, 'warning:', 'disk', 'almost', 'full');

        for (const receiver of receivers) {
          await receiver.waitForLines(/\[x\] b'/, 2, LINE_TIMEOUT_MS);
          expect(receiver.linesMatching(/\[x\] b'/)).toEqual([
            ` [x] b'info: Hello World!'`,
            ` [x] b'warning: disk almost full'`,
          ]);
        }
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'each receiver gets its own exclusive amq.gen- queue that other connections cannot use and that dies with it',
      async () => {
        const receivers = [
          await startReceiver('pika/receive_logs.py'),
          await startReceiver('pika/receive_logs.py'),
        ];
        const [q1, q2] = await Promise.all(receivers.map(serverNamedQueue));
        // RabbitMQ's server-generated names: "amq.gen-" and 22 characters of URL-safe base64.
        expect(q1).toMatch(/^amq\.gen-[A-Za-z0-9_-]{22}$/);
        expect(q2).toMatch(/^amq\.gen-[A-Za-z0-9_-]{22}$/);
        expect(q1).not.toBe(q2);

        // Even a passive declare from another connection is refused while the owner lives.
        const locked = await seed.admin.queueState(q1 as string);
        expect(locked).toMatchObject({ exists: false, code: 405 });
        expect(locked.exists ? '' : locked.message).toContain(
          `RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '${q1}' in vhost '/'`,
        );

        await (receivers[0] as ChildProgram).stop('SIGKILL');
        const gone = await seed.admin.waitForQueueState(q1 as string, (s) => !s.exists && s.code === 404);
        expect(gone.exists ? '' : gone.message).toContain(`NOT_FOUND - no queue '${q1}' in vhost '/'`);

        // The other receiver's queue is unaffected and still delivers.
        await runSeed('pika/emit_log.py', seed.broker, 'still', 'here');
        await (receivers[1] as ChildProgram).waitForLine(/\[x\] b'still here'/, LINE_TIMEOUT_MS);
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('tutorial 4, routing (emit_log_direct.py / receive_logs_direct.py)', () => {
    test(
      'a queue bound with several severities gets each of them, and one binding key on two queues reaches both',
      async () => {
        // The seed's two terminals: errors to a file, and everything shown on screen.
        const errorsOnly = await startReceiver('pika/receive_logs_direct.py', 'error');
        const all = await startReceiver('pika/receive_logs_direct.py', 'info', 'warning', 'error');

        const emitted = await runSeed('pika/emit_log_direct.py', seed.broker, 'info', 'just', 'so');
        expect(emitted.stdout).toEqual([` [x] Sent 'info':'just so'`]);
        await runSeed('pika/emit_log_direct.py', seed.broker, 'warning', 'careful');
        await runSeed('pika/emit_log_direct.py', seed.broker, 'debug', 'nobody', 'binds', 'debug');
        // Published last and routed to both: once both print it, everything before it has been routed too.
        await runSeed(
          'pika/emit_log_direct.py',
          seed.broker,
          'error',
          'Run.',
          'Run.',
          'Or',
          'it',
          'will',
          'explode.',
        );

        await errorsOnly.waitForLine(/\[x\] 'error'/, LINE_TIMEOUT_MS);
        await all.waitForLine(/\[x\] 'error'/, LINE_TIMEOUT_MS);
        expect(routed(errorsOnly)).toEqual([['error', 'Run. Run. Or it will explode.']]);
        expect(routed(all)).toEqual([
          ['info', 'just so'],
          ['warning', 'careful'],
          ['error', 'Run. Run. Or it will explode.'],
        ]);
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('tutorial 5, topics (emit_log_topic.py / receive_logs_topic.py)', () => {
    test(
      "the seed's animal table: Q1 '*.orange.*' and Q2 '*.*.rabbit' 'lazy.#' get exactly the keys the tutorial lists",
      async () => {
        const q1 = await startReceiver('pika/receive_logs_topic.py', '*.orange.*');
        const q2 = await startReceiver('pika/receive_logs_topic.py', '*.*.rabbit', 'lazy.#');

        // The table of seed 001, in its order, with where each message must go.
        const table: Array<[string, 'Q1' | 'Q2' | 'both' | 'none']> = [
          ['quick.orange.rabbit', 'both'],
          ['lazy.orange.elephant', 'both'],
          ['quick.orange.fox', 'Q1'],
          ['lazy.brown.fox', 'Q2'],
          ['lazy.pink.rabbit', 'Q2'], // matches both of Q2's bindings, delivered once
          ['quick.brown.fox', 'none'],
          ['orange', 'none'],
          ['quick.orange.male.rabbit', 'none'],
          ['lazy.orange.male.rabbit', 'Q2'],
        ];
        for (const [key] of table) await runSeed('pika/emit_log_topic.py', seed.broker, key);
        // An end marker both queues match: once both print it, every message before it has been routed.
        await runSeed('pika/emit_log_topic.py', seed.broker, 'lazy.orange.end', 'end');
        await q1.waitForLine(/'lazy\.orange\.end'/, LINE_TIMEOUT_MS);
        await q2.waitForLine(/'lazy\.orange\.end'/, LINE_TIMEOUT_MS);

        const expected = (queue: 'Q1' | 'Q2'): Array<[string, string]> => [
          ...table
            .filter(([, to]) => to === queue || to === 'both')
            .map(([key]): [string, string] => [key, 'Hello World!']),
          ['lazy.orange.end', 'end'],
        ];
        expect(routed(q1)).toEqual(expected('Q1'));
        expect(routed(q2)).toEqual(expected('Q2'));
      },
      TEST_TIMEOUT_MS,
    );
  });
});
