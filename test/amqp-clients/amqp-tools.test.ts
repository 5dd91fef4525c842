// amqp-tools (librabbitmq-c's command-line clients, Debian's amqp-tools 0.11): the commands a shell user points at
// a RabbitMQ. Queue names are unique to the run.
import { runAmqpTool, startAmqpTool } from '../support/python';
import { LINE_TIMEOUT_MS, TEST_TIMEOUT_MS, uniqueName, useSeedBroker } from './helpers';
import { describeWith } from '../support/requires';

describeWith(['amqp-tools'], 'amqp-tools (amqp-publish, amqp-consume, amqp-get, ...)', () => {
  const created: string[] = [];
  const seed = useSeedBroker(() => ({ queues: created }));

  function queueName(): string {
    const name = uniqueName('tools');
    created.push(name);
    return name;
  }

  test(
    'amqp-declare-queue, amqp-publish, amqp-consume -c 2 and amqp-delete-queue: the shell round trip',
    async () => {
      const queue = queueName();
      const declared = await runAmqpTool('amqp-declare-queue', seed.broker, ['-d', '-q', queue]);
      expect(declared.stdout).toEqual([queue]);

      // Published to the default exchange with the queue's name as routing key.
      await runAmqpTool('amqp-publish', seed.broker, ['-r', queue, '-b', 'first']);
      await runAmqpTool('amqp-publish', seed.broker, ['-r', queue, '-b', 'second']);
      expect(await seed.admin.queueState(queue)).toEqual({ exists: true, messageCount: 2, consumerCount: 0 });

      // amqp-consume runs the command once per message with the body on its stdin.
      const consumer = await runAmqpTool('amqp-consume', seed.broker, [
        '-q',
        queue,
        '-c',
        '2',
        '--',
        'sh',
        '-c',
        'cat; echo',
      ]);
      expect(consumer.stdout).toEqual(['first', 'second']);
      expect(await seed.admin.queueState(queue)).toEqual({ exists: true, messageCount: 0, consumerCount: 0 });

      await runAmqpTool('amqp-publish', seed.broker, ['-r', queue, '-b', 'left behind']);
      // amqp-delete-queue prints the number of messages deleted with the queue.
      const deleted = await runAmqpTool('amqp-delete-queue', seed.broker, ['-q', queue]);
      expect(deleted.stdout).toEqual(['1']);
      expect(await seed.admin.queueState(queue)).toMatchObject({ exists: false, code: 404 });
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'amqp-declare-queue with an empty name gets a server-named amq.gen- queue',
    async () => {
      const declared = await runAmqpTool('amqp-declare-queue', seed.broker, ['-q', '']);
      const [name] = declared.stdout;
      expect(name).toMatch(/^amq\.gen-[A-Za-z0-9_-]{22}$/);
      created.push(name as string);
      expect(await seed.admin.queueState(name as string)).toEqual({
        exists: true,
        messageCount: 0,
        consumerCount: 0,
      });
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'amqp-get prints one message body, and exits with status 2 and no output on an empty queue',
    async () => {
      const queue = queueName();
      await runAmqpTool('amqp-declare-queue', seed.broker, ['-q', queue]);
      const empty = startAmqpTool('amqp-get', seed.broker, ['-q', queue]);
      expect(await empty.waitForExit(LINE_TIMEOUT_MS)).toEqual({ code: 2, signal: null });
      expect(empty.stdout).toEqual([]);

      await runAmqpTool('amqp-publish', seed.broker, ['-r', queue, '-b', 'got it']);
      expect((await runAmqpTool('amqp-get', seed.broker, ['-q', queue])).stdout).toEqual(['got it']);
      expect(await seed.admin.queueState(queue)).toMatchObject({ exists: true, messageCount: 0 });
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'amqp-publish -p -C -E -H -t sets delivery_mode 2, content type and encoding, a header and reply-to',
    async () => {
      const queue = queueName();
      await runAmqpTool('amqp-declare-queue', seed.broker, ['-q', queue]);
      await runAmqpTool('amqp-publish', seed.broker, [
        '-r',
        queue,
        '-p',
        '-C',
        'application/json',
        '-E',
        'utf-8',
        '-H',
        'x-origin: shell',
        '-t',
        'replies',
        '-b',
        '{"a":1}',
      ]);
      const message = await seed.admin.get(queue);
      expect(message).not.toBe(false);
      if (message === false) return;
      expect(message.content.toString()).toBe('{"a":1}');
      expect(message.fields).toMatchObject({ exchange: '', routingKey: queue, redelivered: false });
      expect(message.properties).toMatchObject({
        deliveryMode: 2,
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        replyTo: 'replies',
        headers: { 'x-origin': 'shell' },
      });
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'amqp-consume -e amq.direct -r KEY declares an auto-delete queue, binds it, gets what amqp-publish sends with KEY',
    async () => {
      const queue = queueName();
      const key = uniqueName('key');
      // With -e, amqp-consume declares the queue itself (auto_delete=true; declaring it first with other flags would
      // make that fail with 406), binds it, then consumes.
      const consumer = startAmqpTool('amqp-consume', seed.broker, [
        '-q',
        queue,
        '-e',
        'amq.direct',
        '-r',
        key,
        '-c',
        '1',
        '--',
        'sh',
        '-c',
        'cat; echo',
      ]);
      // amqp-consume prints nothing when it is ready; the broker shows its consumer (bound before consuming).
      await seed.admin.waitForQueueState(queue, (s) => s.exists && s.consumerCount === 1);

      await runAmqpTool('amqp-publish', seed.broker, [
        '-e',
        'amq.direct',
        '-r',
        `${key}.other`,
        '-b',
        'not for me',
      ]);
      await runAmqpTool('amqp-publish', seed.broker, ['-e', 'amq.direct', '-r', key, '-b', 'for me']);
      await consumer.succeeds(LINE_TIMEOUT_MS);
      expect(consumer.stdout).toEqual(['for me']);
      // Its only consumer gone, the auto-delete queue is deleted.
      await seed.admin.waitForQueueState(queue, (s) => !s.exists && s.code === 404);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'redeclaring a durable queue as non-durable fails with 406 PRECONDITION_FAILED, naming the argument',
    async () => {
      const queue = queueName();
      await runAmqpTool('amqp-declare-queue', seed.broker, ['-d', '-q', queue]);
      const again = startAmqpTool('amqp-declare-queue', seed.broker, ['-q', queue]);
      expect((await again.waitForExit(LINE_TIMEOUT_MS)).code).toBe(1);
      expect(again.stderr).toContain(
        `queue.declare: server channel error 406, message: PRECONDITION_FAILED - inequivalent arg 'durable' for queue '${queue}' in vhost '/': received 'false' but current is 'true'`,
      );
    },
    TEST_TIMEOUT_MS,
  );
});
