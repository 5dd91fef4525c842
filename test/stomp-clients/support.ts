import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { Broker, type BrokerOptions, type Queue } from '@warren/core';
import {
  listenStomp,
  serializeFrame,
  StompParser,
  type StompFrame,
  type StompListener,
  type StompListenerOptions,
  type StompVersion,
} from '@warren/stomp';
import { waitFor as pollUntil } from '@warren/testkit';

/** A broker in this process with the STOMP listener on a free port of 127.0.0.1. */
export interface StompTestBroker {
  readonly broker: Broker;
  readonly listener: StompListener;
  readonly port: number;
  queue(name: string, vhost?: string): Queue | undefined;
  close(): Promise<void>;
}

export async function startStompBroker(
  options: Partial<StompListenerOptions> = {},
  brokerOptions: BrokerOptions = {},
): Promise<StompTestBroker> {
  const broker = new Broker(brokerOptions);
  await broker.start();
  const listener = await listenStomp({ broker, host: '127.0.0.1', port: 0, ...options });
  return {
    broker,
    listener,
    port: listener.address.port,
    queue: (name, vhost = '/') => broker.vhosts.get(vhost)?.queues.get(name),
    close: async () => {
      await listener.close();
      await broker.close();
    },
  };
}

/** The testkit's waitFor with this suite's argument order (what first) and a 10 s default deadline. */
export function waitFor(predicate: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
  return pollUntil(predicate, timeoutMs, what);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A child process with its output; `started` resolves with it once it exits. */
export function run(
  command: string,
  args: string[],
  timeoutMs = 20000,
): Promise<RunResult> & { kill(): void } {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<RunResult>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return Object.assign(done, { kill: () => child.kill('SIGKILL') });
}

/** A STOMP client on a raw socket: exact bytes out, parsed frames in. */
export class RawClient {
  readonly frames: StompFrame[] = [];
  readonly received: Buffer[] = [];
  closed = false;
  heartbeats = 0;
  version: StompVersion = '1.0';
  private readonly socket: Socket;
  private readonly parser: StompParser;

  private constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    const big = 1 << 30;
    this.parser = new StompParser(
      {
        onFrame: (f) => {
          if (f.command === 'CONNECTED') {
            this.version = (f.headers.get('version') ?? '1.0') as StompVersion;
            this.parser.markConnected(this.version);
          }
          this.frames.push(f);
        },
        onHeartbeat: () => this.heartbeats++,
        onError: (e) => {
          throw e;
        },
      },
      { limits: { stompMaxFrameSize: big, stompMaxPreConnectBytes: big, stompMaxHeaderLength: big } },
    );
    this.socket.on('data', (d: Buffer) => {
      this.received.push(d);
      this.parser.feed(d);
    });
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => {});
  }

  static async open(port: number): Promise<RawClient> {
    const c = new RawClient(port);
    await new Promise<void>((resolve, reject) => {
      c.socket.once('connect', () => resolve());
      c.socket.once('error', reject);
    });
    return c;
  }

  /** Everything received so far, NULs shown as ^@. */
  get text(): string {
    return Buffer.concat(this.received).toString('utf8');
  }

  raw(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  frame(command: string, headers: Record<string, string> = {}, body: string | Buffer = ''): void {
    const b = typeof body === 'string' ? Buffer.from(body) : body;
    for (const chunk of serializeFrame(command, Object.entries(headers), b, this.version))
      this.socket.write(chunk);
  }

  async next(command: string, count = 1): Promise<StompFrame> {
    await waitFor(
      () => this.frames.filter((f) => f.command === command).length >= count,
      `${count} ${command}`,
    );
    return this.frames.filter((f) => f.command === command)[count - 1] as StompFrame;
  }

  /** Calls `listener` when the socket closes (at once if it already has). */
  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.socket.once('close', listener);
  }

  async waitClosed(): Promise<void> {
    await waitFor(() => this.closed, 'the server to close the connection');
  }

  close(): void {
    this.socket.destroy();
  }
}
