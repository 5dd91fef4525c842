import {
  AccessRefused,
  certificateUser,
  isLoopbackAddress,
  loginRefused,
  WarrenError,
  type Broker,
  type Logger,
  type Transport,
  type User,
} from '@warren/core';
import { decodeFieldTableBuffer } from '../codec/field-table';

/**
 * The SASL mechanisms Warren implements. EXTERNAL is RabbitMQ's rabbitmq_auth_mechanism_ssl: the verified TLS
 * client certificate names the user, and start-ok's response is ignored.
 */
export const MECHANISMS = ['PLAIN', 'AMQPLAIN', 'EXTERNAL'] as const;

/** What connection.start offers unless configured otherwise: RabbitMQ's default auth_mechanisms. */
export const DEFAULT_MECHANISMS: readonly string[] = ['PLAIN', 'AMQPLAIN'];

/**
 * The mechanisms offered on one connection, in the configured order. EXTERNAL only over TLS with a verified
 * client certificate: offered anywhere else it could only fail, and a client that picks the first mechanism
 * it supports would fail with it.
 */
export function offeredMechanisms(configured: readonly string[], transport: Transport): string[] {
  const verified = transport.peerCertificate?.() !== undefined;
  return configured.filter((m) => m !== 'EXTERNAL' || verified);
}

/** RabbitMQ's answer to a mechanism it does not offer: a connection-level COMMAND_INVALID. */
export function unknownMechanism(mechanism: string): WarrenError {
  return new WarrenError('COMMAND_INVALID', `unknown authentication mechanism '${mechanism}'`);
}

export interface Credentials {
  username: string;
  password: string;
}

/**
 * Reads the credentials out of connection.start-ok's response (spec 1.4.2.2; RFC 4616 for PLAIN).
 *   PLAIN:    [authzid] NUL authcid NUL passwd
 *   AMQPLAIN: a field table holding LOGIN and PASSWORD, sent without its 4-octet length prefix
 *             (what py-amqp, pika and the Java client send)
 */
export function parseCredentials(mechanism: string, response: Buffer): Credentials {
  if (mechanism === 'PLAIN') {
    const first = response.indexOf(0);
    const second = first < 0 ? -1 : response.indexOf(0, first + 1);
    if (second < 0) throw loginRefused(mechanism, 'malformed credentials');
    return {
      username: response.toString('utf8', first + 1, second),
      password: response.toString('utf8', second + 1),
    };
  }
  if (mechanism === 'AMQPLAIN') {
    const withLength = Buffer.allocUnsafe(response.length + 4);
    withLength.writeUInt32BE(response.length, 0);
    response.copy(withLength, 4);
    let table;
    try {
      table = decodeFieldTableBuffer(withLength);
    } catch {
      throw loginRefused(mechanism, 'malformed credentials');
    }
    const login = table['LOGIN'];
    const password = table['PASSWORD'];
    const text = (v: unknown): string | undefined =>
      typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
    const u = text(login);
    const p = text(password);
    if (u === undefined || p === undefined) throw loginRefused(mechanism, 'malformed credentials');
    return { username: u, password: p };
  }
  throw unknownMechanism(mechanism);
}

/**
 * start-ok: the user its mechanism proves, or ACCESS_REFUSED (the reason goes to the log only). PLAIN and
 * AMQPLAIN check the credentials; EXTERNAL, offered only with a verified certificate, takes its CN as the
 * user and ignores start-ok's response.
 */
export function login(
  broker: Broker,
  transport: Transport,
  offered: readonly string[],
  mechanism: string,
  response: Buffer,
  log: Logger,
): User {
  if (!offered.includes(mechanism)) throw unknownMechanism(mechanism);
  const fromLoopback = isLoopbackAddress(transport.remoteAddress);
  let username: string | undefined;
  try {
    if (mechanism !== 'EXTERNAL') {
      const credentials = parseCredentials(mechanism, response);
      username = credentials.username;
      return broker.authenticate(username, credentials.password, fromLoopback);
    }
    username = certificateUser(transport);
    if (username === undefined) throw loginRefused(mechanism, 'no client certificate');
    return broker.authenticateExternal(username, fromLoopback);
  } catch (e) {
    if (!(e instanceof AccessRefused)) throw e;
    log.warn({ user: username ?? null, mechanism, reason: e.reason }, 'login refused');
    // The loopback refusal names its cause, as RabbitMQ's does; any other is one generic answer, worded with
    // the mechanism the client chose.
    throw e.reason === 'loopback-only user from a remote address' ? e : loginRefused(mechanism, e.reason);
  }
}
