import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, type BrokerOptions, type Queue } from '@warren/core';
import { listenAmqp } from '@warren/amqp';
import { defaultConfig, startServer, VERSION, type ServerHandle } from '@warren/server';
import { listenStomp, StompParser, serializeFrame, type StompFrame, type StompVersion } from '@warren/stomp';
import { listenStompWs, type StompWsListener, type StompWsListenerOptions } from '@warren/stomp-ws';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { waitFor as pollUntil } from '@warren/testkit';

/** Warren in this process (startServer): AMQP, STOMP/TCP and the WebSocket listener on one broker. */
export interface WsBroker {
  readonly server: ServerHandle;
  readonly broker: Broker;
  readonly ws: StompWsListener;
  readonly amqpPort: number;
  readonly stompPort: number;
  readonly wsPort: number;
  /** ws://127.0.0.1:<port>/ws */
  readonly url: string;
  queue(name: string): Queue | undefined;
  close(): Promise<void>;
}

export async function startWsBroker(options: Partial<StompWsListenerOptions> = {}): Promise<WsBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-ws-test-'));
  const config = defaultConfig();
  config.dataDir = dataDir;
  let ws: StompWsListener | undefined;
  // The listeners spelled out rather than the server's LISTENERS, so this listener's options are the test's own
  // whether or not `warren start` opens a WebSocket listener of its own.
  const server = await startServer(config, {
    listeners: [
      ({ broker, logger }) =>
        listenAmqp({ broker, host: '127.0.0.1', port: 0, logger, limits: broker.limits, version: VERSION }),
      ({ broker, logger }) => listenStomp({ broker, host: '127.0.0.1', port: 0, logger }),
      async ({ broker, logger }) => {
        ws = await listenStompWs({ broker, host: '127.0.0.1', port: 0, logger, ...options });
        return ws;
      },
    ],
  });
  const listener = ws as StompWsListener;
  const port = (name: string): number => server.listeners.find((l) => l.name === name)?.address.port ?? 0;
  return {
    server,
    broker: server.broker,
    ws: listener,
    amqpPort: port('amqp'),
    stompPort: port('stomp'),
    wsPort: listener.address.port,
    url: `ws://127.0.0.1:${listener.address.port}${options.path ?? '/ws'}`,
    queue: (name) => server.broker.vhosts.get('/')?.queues.get(name),
    close: async () => {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Just a broker and the WebSocket listener: for tests of the listener's own options. */
export interface WsOnly {
  readonly broker: Broker;
  readonly ws: StompWsListener;
  readonly url: string;
  queue(name: string): Queue | undefined;
  close(): Promise<void>;
}

export async function startWsOnly(
  options: Partial<StompWsListenerOptions> = {},
  brokerOptions: BrokerOptions = {},
): Promise<WsOnly> {
  const broker = new Broker(brokerOptions);
  await broker.start();
  const ws = await listenStompWs({ broker, host: '127.0.0.1', port: 0, ...options });
  let closed: Promise<void> | undefined;
  return {
    broker,
    ws,
    url: `ws://127.0.0.1:${ws.address.port}${options.path ?? '/ws'}`,
    queue: (name) => broker.vhosts.get('/')?.queues.get(name),
    close: () =>
      (closed ??= (async () => {
        await ws.close();
        await broker.close();
      })()),
  };
}

/** The testkit's waitFor with this suite's argument order (what first) and a 10 s default deadline. */
export function waitFor(predicate: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
  return pollUntil(predicate, timeoutMs, what);
}

export const STOMP_PROTOCOLS = ['v10.stomp', 'v11.stomp', 'v12.stomp'];

/** One WebSocket message as received. */
export interface WsMessage {
  readonly data: Buffer;
  readonly binary: boolean;
}

/** A STOMP client on a raw WebSocket: exact messages out, every message and parsed frame in. */
export class RawWsClient {
  readonly messages: WsMessage[] = [];
  readonly frames: StompFrame[] = [];
  pings = 0;
  closeCode: number | undefined = undefined;
  closeReason = '';
  version: StompVersion = '1.0';
  private readonly parser: StompParser;

  private constructor(readonly ws: WebSocket) {
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
        onHeartbeat: () => {},
        onError: (e) => {
          throw e;
        },
      },
      { limits: { stompMaxFrameSize: big, stompMaxPreConnectBytes: big, stompMaxHeaderLength: big } },
    );
    ws.on('message', (data: RawData, binary: boolean) => {
      const buf = data as Buffer;
      this.messages.push({ data: buf, binary });
      this.parser.feed(buf);
    });
    ws.on('ping', () => this.pings++);
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    ws.on('error', () => {});
  }

  /** Opens the WebSocket (offering STOMP's subprotocols unless told otherwise). */
  static async open(
    url: string,
    protocols: string[] = STOMP_PROTOCOLS,
    options: ClientOptions = {},
  ): Promise<RawWsClient> {
    const ws = new WebSocket(url, protocols, options);
    const client = new RawWsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** Opens and logs in as guest; resolves on CONNECTED. */
  static async connected(url: string, headers: Record<string, string> = {}): Promise<RawWsClient> {
    const c = await RawWsClient.open(url);
    c.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest', ...headers });
    await c.next('CONNECTED');
    return c;
  }

  /** One STOMP frame as one WebSocket message. */
  frame(
    command: string,
    headers: Record<string, string> = {},
    body: string | Buffer = '',
    binary = false,
  ): void {
    const b = typeof body === 'string' ? Buffer.from(body) : body;
    this.ws.send(Buffer.concat(serializeFrame(command, Object.entries(headers), b, this.version)), {
      binary,
    });
  }

  /** The bytes of one frame, for tests that cut or join frames themselves. */
  bytes(command: string, headers: Record<string, string> = {}, body: string | Buffer = ''): Buffer {
    const b = typeof body === 'string' ? Buffer.from(body) : body;
    return Buffer.concat(serializeFrame(command, Object.entries(headers), b, this.version));
  }

  send(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  framesOf(command: string): StompFrame[] {
    return this.frames.filter((f) => f.command === command);
  }

  async next(command: string, count = 1): Promise<StompFrame> {
    await waitFor(() => this.framesOf(command).length >= count, `${count} ${command}`);
    return this.framesOf(command)[count - 1] as StompFrame;
  }

  async waitClosed(): Promise<void> {
    await waitFor(() => this.closeCode !== undefined, 'the WebSocket to close');
  }

  close(): void {
    this.ws.terminate();
  }
}
