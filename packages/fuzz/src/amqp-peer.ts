import {
  AmqpConnection,
  FrameReader,
  PROTOCOL_HEADER,
  decodeContentHeader,
  decodeMethodFrame,
  decodeProperties,
} from '@warren/amqp';
import { silentLogger, type Broker } from '@warren/core';
import { MemoryTransport } from '@warren/testkit';
import { FUZZ_FRAME_MAX } from './amqp-wire';
import { invariant } from './target';

/**
 * A fuzzed AMQP client: a real AmqpConnection over an in-memory transport on the arena's broker. Everything the
 * server writes is parsed back with the codec, so a reply the server cannot encode correctly (a wrong length, a
 * method that does not decode) breaks an invariant instead of going unnoticed.
 */
export class AmqpPeer {
  readonly transport = new MemoryTransport('amqp', '127.0.0.1', 40000, false);
  readonly connection: AmqpConnection;
  private readonly reader: FrameReader;
  private answeredHeader = false;
  private outputError: string | undefined = undefined;
  frames = 0;

  constructor(broker: Broker) {
    this.connection = new AmqpConnection(this.transport, {
      broker,
      logger: silentLogger,
      limits: broker.limits,
      version: 'fuzz',
      onClosed: () => {},
    });
    this.transport.attach(this.connection);
    this.reader = new FrameReader(
      {
        onProtocolHeader: () => {},
        onMethod: (_channel, payload) => {
          this.frames++;
          decodeMethodFrame(payload);
        },
        onContentHeader: (_channel, payload) => {
          this.frames++;
          decodeProperties(Buffer.from(decodeContentHeader(payload).properties));
        },
        onBody: () => {
          this.frames++;
        },
        onHeartbeat: () => {},
      },
      { expectProtocolHeader: false, frameMax: FUZZ_FRAME_MAX },
    );
    this.transport.onWrite = (chunk) => this.parse(chunk);
  }

  /** Bytes from the client; nothing thrown here may come from the server (it must handle its own errors). */
  send(chunk: Buffer): void {
    this.transport.deliver(chunk);
  }

  close(): void {
    this.transport.close();
  }

  /** The server's output so far parsed as AMQP frames without error. */
  checkOutput(): void {
    invariant(this.outputError === undefined, () => `the server wrote malformed AMQP: ${this.outputError}`);
  }

  private parse(chunk: Buffer): void {
    if (this.outputError !== undefined) return;
    // A refused protocol header is answered with the server's own header, not with frames (spec 4.2.2).
    if (!this.answeredHeader && this.frames === 0 && chunk.equals(PROTOCOL_HEADER)) {
      this.answeredHeader = true;
      return;
    }
    try {
      this.reader.push(chunk);
    } catch (e) {
      this.outputError = e instanceof Error ? e.message : String(e);
    }
  }
}
