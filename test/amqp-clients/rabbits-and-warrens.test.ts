// Seeds 000/002 ("Rabbits and Warrens": py-amqplib's po_box queue, sorting_room direct exchange, routing key
// jason, persistent messages) and seed 003 (the same design with py-amqp 1.4 and routing key 1111). Both use the
// durable queue po_box and exchange sorting_room, so they share this file and the tests delete both around each.
import type { ChildProgram } from '../support/python';
import { useSeedBroker, LINE_TIMEOUT_MS, TEST_TIMEOUT_MS, runSeed, startSeed } from './helpers';
import { describeWith } from '../support/requires';

describeWith(['python3-amqp'], 'Rabbits and Warrens', () => {
  const seed = useSeedBroker(() => ({ queues: ['po_box'], exchanges: ['sorting_room'] }));

  /** Starts a consumer program and resolves once the broker has answered its basic.consume (traced by the shim). */
  async function startConsumer(program: string, ...args: string[]): Promise<ChildProgram> {
    const consumer = startSeed(program, seed.broker, ...args);
    await consumer.waitForStderrLine(/basic\.consume-ok/, LINE_TIMEOUT_MS);
    return consumer;
  }

  /** The basic_get consumer on an empty po_box: basic_get returns None and the article's `print msg.body` dies. */
  async function getFromEmptyPoBox(): Promise<void> {
    const getter = startSeed('amqplib/amqp_consumer_get.py', seed.broker);
    const status = await getter.waitForExit(LINE_TIMEOUT_MS);
    expect(status.code).toBe(1);
    expect(getter.stderr).toContain("AttributeError: 'NoneType' object has no attribute 'body'");
  }

  describe('py-amqplib (seeds 000/002)', () => {
    test(
      'basic_get on an empty po_box returns None — and the consumer has declared po_box, sorting_room and the jason binding',
      async () => {
        await getFromEmptyPoBox();
        expect(await seed.admin.queueState('po_box')).toEqual({
          exists: true,
          messageCount: 0,
          consumerCount: 0,
        });

        // The binding exists: the publisher's message (sorting_room, key jason) lands in po_box.
        await runSeed('amqplib/amqp_publisher.py', seed.broker);
        expect(await seed.admin.queueState('po_box')).toEqual({
          exists: true,
          messageCount: 1,
          consumerCount: 0,
        });
      },
      TEST_TIMEOUT_MS,
    );

    test(
      "the publisher's persistent 'Test message!' waits in po_box; basic_get prints it and basic_ack removes it",
      async () => {
        await getFromEmptyPoBox();
        await runSeed('amqplib/amqp_publisher.py', seed.broker);
        await runSeed('amqplib/amqp_publisher.py', seed.broker);

        // What the broker stored: the body, delivery_mode 2 and the content_encoding py-amqp adds to str bodies.
        const peeked = await seed.admin.get('po_box');
        expect(peeked).not.toBe(false);
        if (peeked === false) return;
        expect(peeked.content.toString()).toBe('Test message!');
        expect(peeked.fields).toMatchObject({
          exchange: 'sorting_room',
          routingKey: 'jason',
          redelivered: false,
        });
        expect(peeked.properties).toMatchObject({ deliveryMode: 2, contentEncoding: 'utf-8' });

        const getter = await runSeed('amqplib/amqp_consumer_get.py', seed.broker);
        expect(getter.stdout).toEqual(['Test message!']);
        expect(await seed.admin.queueState('po_box')).toEqual({
          exists: true,
          messageCount: 0,
          consumerCount: 0,
        });
        await getFromEmptyPoBox();
      },
      TEST_TIMEOUT_MS,
    );

    test(
      "the basic_consume consumer prints 'Received: Test message!' for every message the publisher sends",
      async () => {
        const consumer = await startConsumer('amqplib/amqp_consumer.py');
        expect(consumer.stderr).toContain('[shim] basic.consume-ok consumer_tag=testtag queue=po_box');

        await runSeed('amqplib/amqp_publisher.py', seed.broker);
        await runSeed('amqplib/amqp_publisher.py', seed.broker);
        await consumer.waitForLines(/^Received: /, 2, LINE_TIMEOUT_MS);
        expect(consumer.stdout).toEqual(['Received: Test message!', 'Received: Test message!']);
        // no_ack=True: nothing stays behind unacknowledged.
        expect(await seed.admin.queueState('po_box')).toEqual({
          exists: true,
          messageCount: 0,
          consumerCount: 1,
        });
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'after basic_cancel("testtag") the consumer gets nothing more: the next message waits in po_box',
      async () => {
        const consumer = await startConsumer('amqplib/amqp_consumer_cancel.py', '1');
        await runSeed('amqplib/amqp_publisher.py', seed.broker);
        await consumer.succeeds(LINE_TIMEOUT_MS);
        expect(consumer.stdout).toEqual(['Received: Test message!', 'Cancelled: testtag']);

        await runSeed('amqplib/amqp_publisher.py', seed.broker);
        expect(await seed.admin.queueState('po_box')).toEqual({
          exists: true,
          messageCount: 1,
          consumerCount: 0,
        });
        expect((await runSeed('amqplib/amqp_consumer_get.py', seed.broker)).stdout).toEqual([
          'Test message!',
        ]);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'cancelling a consumer while another channel consumes leaves the other one receiving',
      async () => {
        const staying = await startConsumer('amqplib/amqp_consumer.py');
        const leaving = await startConsumer('amqplib/amqp_consumer_cancel.py', '1');
        // Round-robin between the two consumers: publish until the leaving one has had its message and cancelled.
        await runSeed('amqplib/amqp_publisher.py', seed.broker);
        await runSeed('amqplib/amqp_publisher.py', seed.broker);
        await leaving.succeeds(LINE_TIMEOUT_MS);
        await staying.waitForLine(/^Received: Test message!$/, LINE_TIMEOUT_MS);

        await runSeed('amqplib/amqp_publisher.py', seed.broker);
        await staying.waitForLines(/^Received: /, 2, LINE_TIMEOUT_MS);
        expect(await seed.admin.queueState('po_box')).toEqual({
          exists: true,
          messageCount: 0,
          consumerCount: 1,
        });
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('py-amqp 1.4 (seed 003)', () => {
    test(
      "amqp_consumer.py receives the publisher's ten JSON messages, routed by key 1111, in order, on channel #1",
      async () => {
        const consumer = await startConsumer('py-amqp/amqp_consumer.py');
        expect(consumer.stderr).toContain('[shim] basic.consume-ok consumer_tag=consumer queue=po_box');

        const publisher = await runSeed('py-amqp/amqp_publisher.py', seed.broker);
        expect(publisher.stdout).toHaveLength(10);

        const received = await consumer.waitForLines(/^Received: /, 10, LINE_TIMEOUT_MS);
        expect(received).toEqual(publisher.stdout.map((json) => `Received: ${json} from channel #1`));
        expect(
          received.map((line) => (JSON.parse(line.slice(10, line.indexOf(' from'))) as { id: string }).id),
        ).toEqual(['0111', '1111', '2111', '3111', '4111', '5111', '6111', '7111', '8111', '9111']);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'the annotated demo (channel_id=1, key jason) prints what the py-amqplib publisher of the other seed sends',
      async () => {
        const demo = await startConsumer('py-amqp/amqp_demo.py');
        await runSeed('amqplib/amqp_publisher.py', seed.broker);
        await demo.waitForLine(/^Test message!$/, LINE_TIMEOUT_MS);

        // Seed 003's publisher uses key 1111, which the demo did not bind: po_box is the only queue and drops it.
        await runSeed('py-amqp/amqp_publisher.py', seed.broker);
        await runSeed('amqplib/amqp_publisher.py', seed.broker);
        await demo.waitForLines(/^Test message!$/, 2, LINE_TIMEOUT_MS);
        expect(demo.stdout).toEqual(['Test message!', 'Test message!']);
      },
      TEST_TIMEOUT_MS,
    );
  });
});
