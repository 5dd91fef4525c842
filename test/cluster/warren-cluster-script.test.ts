import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import amqp from 'amqplib';
import { describeWith } from '../support/requires';

// The one-machine cluster script (issue 16 point 5) runs the built server (packages/server/bin/warren.js
// loads dist), as `npm test` leaves it after its `tsc -b`.
const root = join(__dirname, '../..');
const script = join(root, 'packages/cluster/scripts/warren-cluster.mjs');
const built = existsSync(join(root, 'packages/server/dist/index.js'));

interface Started {
  child: ChildProcess;
  ports: number[];
  dirs: string[];
  exited: Promise<number | null>;
}

/** Starts the script and resolves with each node's AMQP port once it printed its table. */
function startScript(basePort: number): Promise<Started> {
  const child = spawn(process.execPath, [script, '--nodes', '2', '--base-port', String(basePort)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const ports: number[] = [];
    const dirs: string[] = [];
    void exited.then((code) => reject(new Error(`script exited with ${code} before its table: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const node = /^node\d+\s+\d+\s+(\d+)/.exec(line);
      if (node !== null) ports.push(Number(node[1]));
      const nats = /\(files in (\S+)\)$/.exec(line);
      if (nats !== null) dirs.push(nats[1]!);
      const data = /data: (\S+)$/.exec(line);
      if (data !== null) dirs.push(data[1]!);
      if (line === 'Ctrl-C stops it.') resolve({ child, ports, dirs, exited });
    });
  });
}

const title = 'packages/cluster/scripts/warren-cluster.mjs';
const suite = (): void => {
  test('two nodes: a message published on one is consumed on the other; SIGTERM stops all and cleans up', async () => {
    // Port 0: every listener picks a free one (a fixed range could meet another test's ephemeral port).
    const started = await startScript(0);
    try {
      expect(started.ports).toHaveLength(2);
      expect(started.ports.every((p) => p > 0)).toBe(true);
      const [a, b] = await Promise.all(started.ports.map((p) => amqp.connect(`amqp://127.0.0.1:${p}`)));
      const pub = await a!.createConfirmChannel();
      await pub.assertQueue('script-test', { durable: true });
      pub.sendToQueue('script-test', Buffer.from('across'), { persistent: true });
      await pub.waitForConfirms();
      const sub = await b!.createChannel();
      const body = await new Promise<string>((resolve) => {
        void sub.consume('script-test', (m) => {
          if (m === null) return;
          sub.ack(m);
          resolve(m.content.toString());
        });
      });
      expect(body).toBe('across');
      await sub.close();
      await pub.deleteQueue('script-test');
      await a!.close();
      await b!.close();
    } finally {
      started.child.kill('SIGTERM');
    }
    expect(await started.exited).toBe(0);
    expect(started.dirs).toHaveLength(2);
    for (const d of started.dirs) expect(existsSync(d)).toBe(false);
  }, 90_000);
};

// Without a build (jest alone runs from sources) the script has nothing to start: skipped, with one line.
if (built) describeWith(['nats-server'], title, suite);
else describe.skip(`${title} (skipped: npm run build first)`, suite);
