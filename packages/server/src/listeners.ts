import { listenAmqp } from '@warren/amqp';
import type { Broker, Logger } from '@warren/core';
import { listenStomp } from '@warren/stomp';
import { listenStompWs } from '@warren/stomp-ws';
import type { WarrenConfig } from './config';
import { VERSION } from './version';

export interface ListenerAddress {
  readonly host: string;
  readonly port: number;
}

/** One open server socket speaking one protocol. */
export interface Listener {
  /** The protocol, as it appears in logs: 'amqp', 'stomp', 'ws', 'http'. */
  readonly name: string;
  /** Where it actually listens: with port 0 in the config, the port the OS picked. */
  readonly address: ListenerAddress;
  /** Refuses new connections and leaves open ones be: the first step of a shutdown, on every listener. */
  stopAccepting(): void;
  /** Stops accepting, closes its connections, resolves when every socket is gone. */
  close(): Promise<void>;
}

export interface ListenerContext {
  /** Started: durable state is restored before any listener opens. */
  readonly broker: Broker;
  readonly config: WarrenConfig;
  readonly logger: Logger;
}

/** Opens one listener; resolves once it accepts connections, rejects if it cannot bind. */
export type ListenerFactory = (context: ListenerContext) => Promise<Listener>;

/**
 * The listeners `warren start` opens, in this order. A protocol joins by adding its factory here.
 */
export const LISTENERS: readonly ListenerFactory[] = [
  ({ broker, config, logger }) =>
    listenAmqp({
      broker,
      host: config.amqp.host,
      port: config.amqp.port,
      logger,
      limits: broker.limits,
      version: VERSION,
    }),
  ({ broker, config, logger }) =>
    listenStomp({
      broker,
      host: config.stomp.host,
      port: config.stomp.port,
      logger,
      serverName: `Warren/${VERSION}`,
      ...stompSessionDefaults(config),
    }),
  ({ broker, config, logger }) =>
    listenStompWs({
      broker,
      host: config.ws.host,
      port: config.ws.port,
      path: config.ws.path,
      binaryFrames: config.ws.binaryFrames,
      compression: config.ws.compression,
      allowedOrigins: config.ws.allowedOrigins.length > 0 ? config.ws.allowedOrigins : undefined,
      logger,
      serverName: `Warren/${VERSION}`,
      ...stompSessionDefaults(config),
    }),
];

/** The stomp.* defaults, shared by STOMP over TCP and over WebSocket as in RabbitMQ's Web STOMP plugin. */
function stompSessionDefaults({ stomp }: WarrenConfig) {
  const user = stomp.defaultUser;
  return {
    defaultLogin: user === null ? null : { login: user.name, passcode: user.password },
    defaultVhost: stomp.defaultVhost,
    implicitConnect: stomp.implicitConnect,
  };
}
