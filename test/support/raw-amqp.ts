import { connect, type Socket } from 'node:net';
import {
  CONNECTION_CLOSE,
  CONNECTION_OPEN,
  CONNECTION_OPEN_OK,
  CONNECTION_START,
  CONNECTION_START_OK,
  CONNECTION_TUNE,
  CONNECTION_TUNE_OK,
  FrameReader,
  FrameWriter,
  PROTOCOL_HEADER,
  decodeMethodFrame,
  type Method,
} from '@warren/amqp';

export type RawFrame =
  | { type: 'method'; channel: number; method: Method }
  | { type: 'header'; channel: number; payload: Buffer }
  | { type: 'body'; channel: number; payload: Buffer }
  | { type: 'heartbeat' };

/**
 * A scripted AMQP peer for the tests no real client can express: malformed frames, protocol violations,
 * silence. It records every frame the server sends and lets a test wait for one with a deadline.
 */
export class RawAmqp {
  readonly frames: RawFrame[] = [];
  readonly writer = new FrameWriter(131072);
  /** The first bytes the server sent (enough to check a protocol-header answer); frames go to `frames`. */
  received = Buffer.alloc(0);
  closed = false;
  private readonly reader: FrameReader;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    this.reader = new FrameReader(
      {
        onProtocolHeader: () => {},
        onMethod: (channel, payload) =>
          this.add({ type: 'method', channel, method: decodeMethodFrame(payload) }),
        onContentHeader: (channel, payload) =>
          this.add({ type: 'header', channel, payload: Buffer.from(payload) }),
        onBody: (channel, payload) => this.add({ type: 'body', channel, payload: Buffer.from(payload) }),
        onHeartbeat: () => this.add({ type: 'heartbeat' }),
      },
      { expectProtocolHeader: false, frameMax: 1 << 20 },
    );
    socket.on('data', (chunk: Buffer) => {
      if (this.received.length < 64) this.received = Buffer.concat([this.received, chunk]);
      try {
        this.reader.push(chunk);
      } catch {
        // A server answering a bad header with its own protocol header is not a frame; `received` has it.
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawAmqp> {
    const socket = connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawAmqp(socket);
  }

  /** Connects and runs the whole handshake (guest/guest on '/'), returning once connection.open-ok arrived. */
  static async open(
    port: number,
    options: { heartbeat?: number; frameMax?: number; vhost?: string; awaitOpenOk?: boolean } = {},
  ): Promise<RawAmqp> {
    const c = await RawAmqp.connect(port);
    c.write(PROTOCOL_HEADER);
    await c.method(0, CONNECTION_START);
    c.send(0, {
      id: CONNECTION_START_OK,
      clientProperties: { product: 'raw-test' },
      mechanism: 'PLAIN',
      response: Buffer.from('\0guest\0guest'),
      locale: 'en_US',
    });
    const tune = await c.method(0, CONNECTION_TUNE);
    c.send(0, {
      id: CONNECTION_TUNE_OK,
      channelMax: (tune as { channelMax: number }).channelMax,
      frameMax: options.frameMax ?? (tune as { frameMax: number }).frameMax,
      heartbeat: options.heartbeat ?? 0,
    });
    c.send(0, { id: CONNECTION_OPEN, virtualHost: options.vhost ?? '/', capabilities: '', insist: false });
    if (options.awaitOpenOk !== false) await c.method(0, CONNECTION_OPEN_OK);
    return c;
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  send(channel: number, m: Method): void {
    this.write(this.writer.method(channel, m));
  }

  /** A raw frame: type, channel, payload, and the frame-end octet (0xCE unless a test wants it wrong). */
  frame(type: number, channel: number, payload: Buffer, end = 0xce): void {
    const head = Buffer.alloc(7);
    head[0] = type;
    head.writeUInt16BE(channel, 1);
    head.writeUInt32BE(payload.length, 3);
    this.write(Buffer.concat([head, payload, Buffer.from([end])]));
  }

  /** Waits for the next method `id` on `channel` (frames before it are kept in `frames`). */
  async method(channel: number, id: number, timeoutMs = 5000): Promise<Method> {
    let found: Method | undefined;
    await this.until(
      () => {
        found = this.frames.find(
          (f): f is Extract<RawFrame, { type: 'method' }> =>
            f.type === 'method' && f.channel === channel && f.method.id === id,
        )?.method;
        return found !== undefined;
      },
      timeoutMs,
      `method ${id.toString(16)} on channel ${channel}`,
    );
    return found as Method;
  }

  /** Waits for the server's connection.close and returns its reply code and text. */
  async connectionClose(timeoutMs = 5000): Promise<{ replyCode: number; replyText: string }> {
    return (await this.method(0, CONNECTION_CLOSE, timeoutMs)) as unknown as {
      replyCode: number;
      replyText: string;
    };
  }

  async until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    return this.until(() => this.closed, timeoutMs, 'the server to close the socket');
  }

  destroy(): void {
    this.socket.destroy();
  }

  private add(f: RawFrame): void {
    this.frames.push(f);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }
}
