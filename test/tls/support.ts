import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { CONNECTION_START, decodeMethodFrame, FrameReader, PROTOCOL_HEADER } from '@warren/amqp';
import type { WarrenConfig } from '@warren/server';
import { createPki, type KeyPair, type TestPki } from '../support/certs';
import { RecordingLogger } from '../support/recording-logger';
import { startWarren, type TestBroker } from '../support/warren';

export const PROGRAMS = join(__dirname, 'programs');

/** The user the client certificates name (their CN), with a password for the PLAIN logins. */
export const USER = 'alice';
export const PASSWORD = 'alice-secret';

/** Warren in this process with AMQPS, STOMP over TLS and WSS on free ports, and the PKI they use. */
export interface TlsBroker {
  readonly warren: TestBroker;
  readonly pki: TestPki;
  readonly log: RecordingLogger;
  readonly amqpPort: number;
  readonly amqpsPort: number;
  readonly stompsPort: number;
  readonly wssPort: number;
  /** wss://localhost:<port>/ws */
  readonly wssUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the broker with every TLS listener on, client certificates verified against the test CA
 * (verifyPeer; failIfNoPeerCert unless `configure` says otherwise), EXTERNAL offered after PLAIN and AMQPLAIN,
 * STOMP's ssl_cert_login on, and USER created with every permission on '/'.
 */
export async function startTlsBroker(configure?: (config: WarrenConfig) => void): Promise<TlsBroker> {
  const pki = createPki(USER);
  const log = new RecordingLogger();
  const warren = await startWarren(
    (config) => {
      for (const endpoint of [config.amqps, config.stomps, config.wss]) {
        endpoint.host = '127.0.0.1';
        endpoint.port = 0;
      }
      config.tls.certFile = pki.server.certFile;
      config.tls.keyFile = pki.server.keyFile;
      config.tls.caFile = pki.caFile;
      config.tls.verifyPeer = true;
      config.authMechanisms = ['PLAIN', 'AMQPLAIN', 'EXTERNAL'];
      config.stomp.sslCertLogin = true;
      configure?.(config);
    },
    { logger: log },
  );
  const server = warren.server;
  if (server === undefined) throw new Error('the TLS suites need the in-process broker');
  server.broker.users.add(USER, PASSWORD);
  server.broker.users.setPermissions(USER, '/', { configure: '.*', write: '.*', read: '.*' });
  const port = (name: string): number => server.listeners.find((l) => l.name === name)?.address.port ?? 0;
  return {
    warren,
    pki,
    log,
    amqpPort: warren.amqpPort,
    amqpsPort: port('amqps'),
    stompsPort: port('stomps'),
    wssPort: port('wss'),
    wssUrl: `wss://localhost:${port('wss')}/ws`,
    close: async () => {
      await warren.close();
      pki.remove();
    },
  };
}

/** What a TLS client of the test PKI passes to node:tls: trust the test CA, present `identity` if given. */
export function clientTls(pki: TestPki, identity?: KeyPair): ConnectionOptions {
  return {
    ca: readFileSync(pki.caFile),
    servername: 'localhost',
    ...(identity === undefined
      ? {}
      : { cert: readFileSync(identity.certFile), key: readFileSync(identity.keyFile) }),
  };
}

/** The environment of a Python client program: the CA, and the client certificate when given. */
export function programEnv(pki: TestPki, identity: KeyPair = pki.client): Record<string, string> {
  return {
    TLS_CA: pki.caFile,
    TLS_CERT: identity.certFile,
    TLS_KEY: identity.keyFile,
    AMQP_USER: USER,
    AMQP_PASSWORD: PASSWORD,
    STOMP_USER: USER,
    STOMP_PASSWORD: PASSWORD,
  };
}

/** Completes a TLS handshake with the broker and resolves with the socket (or rejects with the client's error). */
export function handshake(port: number, options: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ...options }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves once the socket is closed; with what the broker sent before closing it. */
export function untilClosed(socket: TLSSocket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks))));
}

/** Sends the AMQP protocol header over `socket` and resolves with connection.start's mechanisms. */
export function offeredMechanisms(socket: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FrameReader(
      {
        onProtocolHeader: () => {},
        onMethod: (_channel, payload) => {
          const method = decodeMethodFrame(payload);
          if (method.id === CONNECTION_START) resolve(method.mechanisms.toString());
          else reject(new Error(`expected connection.start, got ${method.id}`));
          socket.destroy();
        },
        onContentHeader: () => {},
        onBody: () => {},
        onHeartbeat: () => {},
      },
      { expectProtocolHeader: false, frameMax: 1 << 20 },
    );
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed before connection.start')));
    socket.write(PROTOCOL_HEADER);
  });
}
