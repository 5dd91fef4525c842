import { loginRefused, WarrenError, type Transport } from '@warren/core';
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
