import type { Client as StompClient, IMessage, IStompSocket } from '@stomp/stompjs' with {
  'resolution-mode': 'import',
};
import { WebSocket } from 'ws';
import type { KeyPair } from '../support/certs';
import { killAllPrograms, runPython, type ChildProgram } from '../support/python';
import { clientTls, PASSWORD, programEnv, PROGRAMS, startTlsBroker, USER, type TlsBroker } from './support';
import { describeWith } from '../support/requires';

describeWith(['python3-stomp', 'openssl'], 'STOMP over TLS and WSS', () => {
  // stompjs is an ES module with a CommonJS bundle; tests compile to CommonJS, so it is required and typed by its
  // ES declarations.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client } = require('@stomp/stompjs') as { Client: typeof StompClient };

  let b: TlsBroker;
  beforeAll(async () => {
    b = await startTlsBroker();
  });
  afterAll(() => b.close());
  afterEach(() => killAllPrograms());

  /** What stomp_tls.py reads: the CA, client certificate, login and the stomps port. */
  const stompsEnv = (): Record<string, string> => ({
    ...programEnv(b.pki),
    STOMP_HOST: '127.0.0.1',
    STOMP_PORT: String(b.stompsPort),
  });

  // Room for stomp_tls.py's three connects: a try lost to stomp.py's own TLS race may wait out the broker's
  // 10 s handshake timeout.
  const STOMP_PY_PROGRAM_MS = 40_000;
  const STOMP_PY_MS = STOMP_PY_PROGRAM_MS + 5_000;

  /** Runs a stomp.py program; a failure says what the broker logged for the stomps listener meanwhile. */
  async function runStompPy(args: string[], env: Record<string, string>): Promise<ChildProgram> {
    const from = b.log.lines.length;
    try {
      return await runPython(
        `${PROGRAMS}/stomp_tls.py`,
        { host: '127.0.0.1', amqpPort: 0 },
        { args, env },
        STOMP_PY_PROGRAM_MS,
      );
    } catch (err) {
      const lines = b.log.lines
        .slice(from)
        .filter((l) => l.fields.listener === 'stomps')
        .map((l) => `${l.level} ${l.msg ?? ''} ${JSON.stringify(l.fields)}`);
      throw new Error(`${(err as Error).message}\n--- broker log (stomps)\n${lines.join('\n')}`);
    }
  }

  /** The users of the broker's open STOMP connections over one transport ('stomp' or 'stomp-ws'). */
  function stompUsers(protocol: string): string[] {
    const connections = [...b.warren.server!.broker.connections.values()];
    return connections.filter((c) => c.info.protocol === protocol).map((c) => c.user.name);
  }

  describe('STOMP over TLS', () => {
    test('warren start opens the stomps listener', () => {
      expect(b.log.find('listening', { protocol: 'stomps', port: b.stompsPort })).toHaveLength(1);
    });

    test(
      'stomp.py sends and receives over TLS with a login',
      async () => {
        const program = await runStompPy(['/queue/tls.stomp-py'], stompsEnv());
        expect(program.stdout).toContain('got hello over TLS');
      },
      STOMP_PY_MS,
    );

    test(
      'with ssl_cert_login, stomp.py without a login is logged in as the certificate CN',
      async () => {
        const asUser = { listener: 'stomps', user: USER };
        const before = b.log.find('connection opened', asUser).length;
        const program = await runStompPy(['/queue/tls.cert-login', 'cert-login'], {
          ...stompsEnv(),
          STOMP_PASSWORD: 'unused',
        });
        expect(program.stdout).toContain('got hello over TLS');
        // As alice, not as the default user guest/guest a CONNECT without login would otherwise get.
        expect(b.log.find('connection opened', asUser)).toHaveLength(before + 1);
      },
      STOMP_PY_MS,
    );
  });

  describe('STOMP over secure WebSocket (wss)', () => {
    const clients: StompClient[] = [];
    afterEach(async () => {
      for (const c of clients.splice(0)) await c.deactivate();
    });

    /** @stomp/stompjs over the `ws` package trusting the test CA, resolved once CONNECTED arrives. */
    async function connectStompJs(
      identity: KeyPair | undefined,
      headers: Record<string, string>,
    ): Promise<StompClient> {
      const client = new Client({
        webSocketFactory: () =>
          new WebSocket(b.wssUrl, ['v12.stomp'], clientTls(b.pki, identity)) as unknown as IStompSocket,
        connectHeaders: { host: '/', ...headers },
        heartbeatIncoming: 0,
        heartbeatOutgoing: 0,
        reconnectDelay: 0,
      });
      clients.push(client);
      await new Promise<void>((resolve, reject) => {
        client.onConnect = () => resolve();
        client.onStompError = (frame) => reject(new Error(frame.headers['message']));
        client.onWebSocketClose = (event: { code: number }) => reject(new Error(`closed ${event.code}`));
        client.activate();
      });
      return client;
    }

    test('stompjs subscribes and receives over wss, trusting the test CA', async () => {
      const client = await connectStompJs(undefined, { login: USER, passcode: PASSWORD });
      const got = new Promise<IMessage>((resolve) => client.subscribe('/queue/tls.wss', resolve));
      client.publish({ destination: '/queue/tls.wss', body: 'hello over wss' });
      expect((await got).body).toBe('hello over wss');
      expect(b.log.find('listening', { protocol: 'wss', port: b.wssPort })).toHaveLength(1);
    });

    test('with ssl_cert_login, a wss CONNECT without login is logged in as the certificate CN', async () => {
      await connectStompJs(b.pki.client, {});
      expect(stompUsers('stomp-ws')).toContain(USER);
    });

    test('without a client certificate the same CONNECT falls back to the default user', async () => {
      await connectStompJs(undefined, {});
      expect(stompUsers('stomp-ws')).toEqual(['guest']);
    });
  });
});
