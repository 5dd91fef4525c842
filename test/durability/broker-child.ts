import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** A durable broker in a child process (broker-process.js): what a kill -9 test kills. */
export interface BrokerChild {
  proc: ChildProcess;
  amqpPort: number;
  stompPort: number;
  /** Resolves once the process has exited. */
  exited: Promise<void>;
}

/**
 * Starts broker-process.js on `dataDir` (journal segments of `segmentSize` bytes if given) and resolves once
 * its listeners are open on free ports; rejects, with its stderr, if it exits first.
 */
export async function startBrokerChild(dataDir: string, segmentSize?: number): Promise<BrokerChild> {
  const args = [join(__dirname, 'broker-process.js'), dataDir];
  if (segmentSize !== undefined) args.push(String(segmentSize));
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const ports = await new Promise<{ amqpPort: number; stompPort: number }>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line !== undefined)
        resolve(JSON.parse(line) as { amqpPort: number; stompPort: number });
    });
    void exited.then(() => reject(new Error(`broker exited before listening: ${err}`)));
  });
  return { proc, ...ports, exited };
}
