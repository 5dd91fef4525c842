// Seed 001, tutorial 6 (pika): rpc_server.py answers fib(n) requests from queue 'rpc_queue' to the request's
// reply_to queue, echoing its correlation_id; rpc_client.py waits on its exclusive callback queue for the answer
// whose correlation_id matches its request.
import { useSeedBroker, LINE_TIMEOUT_MS, TEST_TIMEOUT_MS, runSeed, startSeed } from './helpers';
import { describeWith } from '../support/requires';

describeWith(['python3-pika'], 'pika: RPC', () => {
  // A request left over from an interrupted run would be answered to a callback queue that no longer exists.
  const seed = useSeedBroker(() => ({ queues: ['rpc_queue'] }));

  test(
    'rpc_client.py gets fib(30) = 832040 from rpc_server.py through reply_to and correlation_id',
    async () => {
      const server = startSeed('pika/rpc_server.py', seed.broker);
      await server.waitForLine(/\[x\] Awaiting RPC requests/, LINE_TIMEOUT_MS);

      const client = await runSeed('pika/rpc_client.py', seed.broker);
      expect(client.stdout).toEqual([' [x] Requesting fib(30)', ' [.] Got 832040']);
      expect(server.linesMatching(/fib\(/)).toEqual([' [.] fib(30)']);

      // The client's exclusive callback queue went away with its connection; the request was acked.
      const callbackQueue = /queue=(\S+)/.exec(
        client.stderr.find((l) => l.includes('queue.declare-ok')) ?? '',
      )?.[1];
      expect(callbackQueue).toMatch(/^amq\.gen-/);
      await seed.admin.waitForQueueState(callbackQueue as string, (s) => !s.exists && s.code === 404);
      expect(await seed.admin.queueState('rpc_queue')).toEqual({
        exists: true,
        messageCount: 0,
        consumerCount: 1,
      });
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'two clients calling at once each get their own answer on their own callback queue',
    async () => {
      const server = startSeed('pika/rpc_server.py', seed.broker);
      await server.waitForLine(/\[x\] Awaiting RPC requests/, LINE_TIMEOUT_MS);

      const clients = await Promise.all([
        runSeed('pika/rpc_client.py', seed.broker),
        runSeed('pika/rpc_client.py', seed.broker),
      ]);
      for (const client of clients) expect(client.stdout).toContain(' [.] Got 832040');
      // prefetch_count=1: the server took the requests one after the other.
      expect(server.linesMatching(/fib\(/)).toEqual([' [.] fib(30)', ' [.] fib(30)']);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a request sent while no server runs waits in rpc_queue and is answered when rpc_server.py starts',
    async () => {
      // rpc_client.py does not declare rpc_queue: the server's declaration must exist first, as in the tutorial.
      const first = startSeed('pika/rpc_server.py', seed.broker);
      await first.waitForLine(/Awaiting RPC requests/, LINE_TIMEOUT_MS);
      await first.stop('SIGKILL');
      await seed.admin.waitForQueueState('rpc_queue', (s) => s.exists && s.consumerCount === 0);

      const client = startSeed('pika/rpc_client.py', seed.broker);
      await client.waitForLine(/Requesting fib\(30\)/, LINE_TIMEOUT_MS);
      await seed.admin.waitForQueueState('rpc_queue', (s) => s.exists && s.messageCount === 1);

      startSeed('pika/rpc_server.py', seed.broker);
      await client.waitForLine(/\[\.\] Got 832040/, LINE_TIMEOUT_MS);
      expect((await client.waitForExit(LINE_TIMEOUT_MS)).code).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
