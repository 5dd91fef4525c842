import { join } from 'node:path';
import { run, startStompBroker, waitFor, type StompTestBroker } from './support';
import { describeWith } from '../support/requires';

describeWith(['python3-stomp'], 'stomp.py', () => {
  // Debian's python3-stomp is importable only by the system interpreter, not a pyenv python3 first on PATH.
  const PYTHON = '/usr/bin/python3';
  const SCRIPT = join(__dirname, 'fixtures', 'stomp_py_scenarios.py');

  let b: StompTestBroker;
  beforeEach(async () => {
    b = await startStompBroker();
  });
  afterEach(async () => {
    await b.close();
  });

  async function scenario(version: string, name: string): Promise<Record<string, unknown>> {
    const r = await run(PYTHON, [SCRIPT, String(b.port), version, name], 30000);
    if (r.code !== 0) throw new Error(`stomp.py ${name} (${version}) exited ${String(r.code)}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  describe.each(['1.1', '1.2'])('stomp.py with STOMP %s', (version) => {
    const tag = version.replace('.', '');

    it('acks individually, requeues on NACK with redelivered and a delivery count, and acks cumulatively', async () => {
      const r = await scenario(version, 'ack-modes');
      expect(r['bodies']).toEqual(['m0', 'm1', 'm2']);
      expect(r['redelivered']).toEqual(['m0', 'true', '1']);
      expect(r['receipt']).toBe('after-acks');
      expect(r['errors']).toEqual([]);
      await waitFor(() => b.broker.connections.size === 0, 'stomp.py to disconnect');
      expect(b.queue(`py-ack-modes-${tag}`)?.messageCount).toBe(0);
      expect(b.queue(`py-ack-modes-${tag}-cumulative`)?.messageCount).toBe(0);
    });

    it('round-trips escaped header values and UTF-8', async () => {
      const r = await scenario(version, 'escaping');
      expect(r).toEqual({ body: 'café ☃', odd: 'a:b\nc\\d', unicode: 'über', errors: [] });
    });

    it('keeps a quiet connection alive with heart-beats both ways', async () => {
      const r = await scenario(version, 'heart-beats');
      expect(r).toEqual({ body: 'still alive', timeouts: 0, connected: true });
    });

    it('applies a committed transaction, drops an aborted one, and drops an ACK in an aborted transaction', async () => {
      const r = await scenario(version, 'transactions');
      expect(r).toEqual({ before_commit: true, body: 'committed', receipt: 'tx-done', errors: [] });
      // The ACK was aborted, so at disconnect the message went back to the queue.
      await waitFor(
        () => b.queue(`py-transactions-${tag}`)?.messageCount === 1,
        'the unacked message to return',
      );
    });
  });
});
