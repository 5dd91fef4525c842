// kombu (Celery's messaging library; Debian's python3-kombu 5.2 over py-amqp 5.1) the way its users write it:
// kombu.Connection('amqp://guest:guest@host:port//'), a SimpleQueue, then Producer/Consumer on a direct exchange.
// Not a seed program, so it runs without the shims; its queue and exchange names are unique to the run.
import { TEST_TIMEOUT_MS, runProgram, uniqueName, useSeedBroker } from './helpers';
import { describeWith } from '../support/requires';

describeWith(['python3-kombu'], 'kombu', () => {
  const name = uniqueName('kombu');
  // SimpleQueue declares a durable queue and a durable direct exchange, both named after the queue.
  const seed = useSeedBroker(() => ({ queues: [name, `${name}.q`], exchanges: [name, `${name}.x`] }));

  test(
    'a kombu SimpleQueue and a Producer/Consumer pair round-trip JSON, routing key, delivery_mode and headers',
    async () => {
      const program = await runProgram('kombu_round_trip.py', seed.broker, { args: [name] });
      expect(program.stdout).toEqual([
        "simple body={'hello': 'warren', 'n': 1} content_type=application/json",
        'simple qsize after ack=0',
        "consumer body={'task': 'add', 'args': [2, 3]} routing_key=kombu.key delivery_mode=2 header=yes",
        'done',
      ]);
      // The SimpleQueue stays (durable), empty; the auto-delete queue goes with its last consumer.
      expect(await seed.admin.queueState(name)).toEqual({ exists: true, messageCount: 0, consumerCount: 0 });
      await seed.admin.waitForQueueState(`${name}.q`, (s) => !s.exists && s.code === 404);
    },
    TEST_TIMEOUT_MS,
  );
});
