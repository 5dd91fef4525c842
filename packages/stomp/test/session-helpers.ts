import { MemoryStore, type Broker, type StoreOp } from '@warren/core';
import { MemoryTransport, waitFor } from '@warren/testkit';
import {
  serializeFrame,
  StompParser,
  StompSession,
  type StompFrame,
  type StompSessionOptions,
  type StompVersion,
} from '../src';

// The same helpers as every package's tests use, under the names these tests have always imported.
export { MemoryTransport, startBroker, waitFor } from '@warren/testkit';

/** A client of a session over a MemoryTransport: writes frames in, parses frames out. */
export class SessionClient {
  readonly transport: MemoryTransport;
  readonly session: StompSession;
  readonly frames: StompFrame[] = [];
  heartbeats = 0;
  private readonly parser: StompParser;
  version: StompVersion = '1.0';

  constructor(broker: Broker, options: Partial<StompSessionOptions> = {}, remoteAddress = '127.0.0.1') {
    this.transport = new MemoryTransport('stomp', remoteAddress);
    this.session = new StompSession(this.transport, { broker, serverName: 'Warren/test', ...options });
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
    this.transport.onWrite = (chunk) => this.parser.feed(chunk);
  }

  /** Raw bytes from the client, as they would arrive on the socket. */
  raw(bytes: string | Buffer): void {
    this.session.receive(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes);
  }

  frame(command: string, headers: Record<string, string> = {}, body: string | Buffer = ''): void {
    const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    for (const chunk of serializeFrame(command, Object.entries(headers), b, this.version)) this.raw(chunk);
  }

  connect(
    headers: Record<string, string> = { 'accept-version': '1.2', login: 'guest', passcode: 'guest' },
  ): StompFrame {
    this.frame('CONNECT', headers);
    const f = this.frames[this.frames.length - 1];
    if (f?.command !== 'CONNECTED')
      throw new Error(`CONNECT answered by ${f?.command ?? 'nothing'}: ${f?.headers.get('message') ?? ''}`);
    return f;
  }

  of(command: string): StompFrame[] {
    return this.frames.filter((f) => f.command === command);
  }

  messages(): string[] {
    return this.of('MESSAGE').map((f) => f.body.toString('utf8'));
  }

  last(): StompFrame | undefined {
    return this.frames[this.frames.length - 1];
  }

  lastError(): StompFrame | undefined {
    return this.of('ERROR').pop();
  }

  async waitFor(pred: () => boolean, what: string): Promise<void> {
    await waitFor(pred, 3000, what);
  }
}

/** A store that holds each batch's durability callback until the test releases it. */
export class HeldStore extends MemoryStore {
  readonly held: (() => void)[] = [];

  override write(ops: StoreOp[], durable: () => void): void {
    super.write(ops, () => this.held.push(durable));
  }

  release(): void {
    for (const fn of this.held.splice(0)) fn();
  }
}

export function header(frame: StompFrame | undefined, name: string): string | undefined {
  return frame?.headers.get(name);
}
