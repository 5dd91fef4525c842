import { silentLogger, type Broker } from '@warren/core';
import { StompParser, StompSession, type StompVersion } from '@warren/stomp';
import { MemoryTransport } from '@warren/testkit';
import { invariant } from './target';

/**
 * A fuzzed STOMP client: a real StompSession over an in-memory transport. What the server writes is parsed
 * back; an unparseable frame from the server breaks an invariant.
 */
export class StompPeer {
  readonly transport = new MemoryTransport('stomp', '127.0.0.1', 40001, false);
  readonly session: StompSession;
  private readonly parser: StompParser;
  private outputError: string | undefined = undefined;
  errors = 0;

  constructor(broker: Broker) {
    this.session = new StompSession(this.transport, {
      broker,
      logger: silentLogger,
      serverName: 'Warren/fuzz',
    });
    this.transport.attach(this.session);
    const big = 1 << 30;
    this.parser = new StompParser(
      {
        onFrame: (f) => {
          if (f.command === 'CONNECTED')
            this.parser.markConnected((f.headers.get('version') ?? '1.0') as StompVersion);
          if (f.command === 'ERROR') {
            this.errors++;
            if (f.headers.get('message') === undefined)
              this.outputError ??= 'an ERROR frame without a message header';
          }
        },
        onHeartbeat: () => {},
        onError: (e) => {
          this.outputError ??= e.message;
        },
      },
      { limits: { stompMaxFrameSize: big, stompMaxPreConnectBytes: big, stompMaxHeaderLength: big } },
    );
    this.transport.onWrite = (chunk) => this.parser.feed(chunk);
  }

  send(chunk: Buffer): void {
    this.transport.deliver(chunk);
  }

  close(): void {
    this.transport.close();
  }

  checkOutput(): void {
    invariant(this.outputError === undefined, () => `the server wrote malformed STOMP: ${this.outputError}`);
  }
}
