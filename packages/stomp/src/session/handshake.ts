/*
 * A CONNECT (or STOMP) frame accepted: the version and heart-beats agreed, who logs in, which vhost, and the
 * core connection opened for them. Every refusal is a fatal StompFailure, worded as RabbitMQ's STOMP words it.
 *
 *   version        STOMP 1.2 "Protocol Negotiation" (negotiate.ts): none in common is 'Version mismatch'
 *   heart-beat     cx,cy (negotiate.ts): malformed is 'Invalid header'
 *   login          = certificate / headers / default
 *     certificate  the verified TLS client certificate's CN, when sslCertLogin is on and no login header came
 *     headers      CONNECT's login and passcode (a login without passcode is refused)
 *     default      neither header: defaultLogin (RabbitMQ's stomp.default_user, guest/guest), unless null
 *   vhost          the host header when it names a vhost (or unknownHost is 'refuse'), else defaultVhost
 *
 * A refused login gets RabbitMQ's one answer, which does not tell an unknown user from a bad password; the
 * log says which it was.
 */
import {
  AccessRefused,
  certificateUser,
  DEFAULT_VHOST,
  isLoopbackAddress,
  type Broker,
  type Connection,
  type Logger,
  type User,
} from '@warren/core';
import type { StompFrame, StompVersion } from '../codec/frame';
import { chooseVersion, parseHeartBeat, SUPPORTED, type HeartBeat } from './negotiate';
import { StompFailure, toFailure } from './stomp-failure';
import type { Transport } from './transport';

export interface HandshakeOptions {
  broker: Broker;
  transport: Transport;
  logger: Logger;
  /** undefined: guest/guest; null: login and passcode are required. */
  defaultLogin: { login: string; passcode: string } | null | undefined;
  sslCertLogin: boolean;
  /** undefined: "/". */
  defaultVhost: string | undefined;
  unknownHost: 'default-vhost' | 'refuse' | undefined;
}

export interface Handshake {
  version: StompVersion;
  beat: HeartBeat;
  user: User;
  vhost: string;
  connection: Connection;
}

/** Accepts a CONNECT, or throws the StompFailure that refuses it. */
export function acceptConnect(frame: StompFrame, options: HandshakeOptions): Handshake {
  const { broker, transport, logger } = options;
  const h = frame.headers;
  const version = chooseVersion(h.get('accept-version'));
  if (version === undefined) {
    throw new StompFailure('Version mismatch', `Supported versions are ${SUPPORTED}\n`, true);
  }
  const beat = parseHeartBeat(h.get('heart-beat'));
  if (beat === undefined) {
    throw new StompFailure(
      'Invalid header',
      `Invalid heart-beat header '${h.get('heart-beat') ?? ''}'`,
      true,
    );
  }
  const user = login(frame, options);
  const host = h.get('host');
  const known =
    host !== undefined && (options.unknownHost === 'refuse' || broker.getVhost(host) !== undefined);
  const vhost = known ? host : (options.defaultVhost ?? DEFAULT_VHOST);
  try {
    const connection = broker.connect(user, vhost, {
      protocol: transport.protocol,
      remoteAddress: transport.remoteAddress,
      remotePort: transport.remotePort,
      localAddress: transport.localAddress ?? '',
      localPort: transport.localPort ?? 0,
      clientProperties: { version, host: host ?? '', 'client-id': h.get('client-id') ?? '' },
    });
    return { version, beat, user, vhost, connection };
  } catch (error) {
    if (error instanceof AccessRefused) {
      logger.warn({ user: user.name, vhost, reason: error.reason }, 'login refused');
      // RabbitMQ's STOMP words it so for a vhost that is missing or not permitted alike.
      if (error.reason === 'vhost not found' || error.reason === 'no access to vhost') {
        throw new StompFailure('Bad CONNECT', `Virtual host '${vhost}' access denied`, true);
      }
    }
    throw new StompFailure('Bad CONNECT', `${toFailure(error).detail}\n`, true);
  }
}

/** The user of a CONNECT (certificate / headers / default), or the StompFailure that refuses it. */
function login(frame: StompFrame, options: HandshakeOptions): User {
  const { broker, transport } = options;
  const h = frame.headers;
  const fromLoopback = isLoopbackAddress(transport.remoteAddress);
  const certLogin = options.sslCertLogin && !h.has('login') ? certificateUser(transport) : undefined;
  if (certLogin !== undefined) {
    return admit(options.logger, certLogin, () => broker.authenticateExternal(certLogin, fromLoopback));
  }
  const fallback =
    options.defaultLogin === undefined ? { login: 'guest', passcode: 'guest' } : options.defaultLogin;
  const login = h.get('login') ?? fallback?.login;
  const passcode = h.get('passcode') ?? (h.has('login') ? undefined : fallback?.passcode);
  if (login === undefined || passcode === undefined) {
    const reason = login === undefined ? 'no login header' : 'no passcode header';
    options.logger.warn({ user: login, reason }, 'login refused');
    throw accessRefused(login);
  }
  return admit(options.logger, login, () => broker.authenticate(login, passcode, fromLoopback));
}

/** Runs one login check; a refusal is logged with its reason and answered with the one generic ERROR. */
function admit(logger: Logger, login: string, authenticate: () => User): User {
  try {
    return authenticate();
  } catch (error) {
    if (!(error instanceof AccessRefused)) throw error;
    logger.warn({ user: login, reason: error.reason }, 'login refused');
    throw accessRefused(login);
  }
}

/** RabbitMQ's one answer to every refused STOMP login. */
function accessRefused(login: string | undefined): StompFailure {
  return new StompFailure('Bad CONNECT', `Access refused for user '${login ?? ''}'\n`, true);
}
