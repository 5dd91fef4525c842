import { WarrenError } from '@warren/core';
import { decodeFieldTableBuffer } from '../codec/field-table';

export const MECHANISMS = ['PLAIN', 'AMQPLAIN'] as const;

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
    if (second < 0) throw refused(mechanism);
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
      throw refused(mechanism);
    }
    const login = table['LOGIN'];
    const password = table['PASSWORD'];
    const text = (v: unknown): string | undefined =>
      typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
    const u = text(login);
    const p = text(password);
    if (u === undefined || p === undefined) throw refused(mechanism);
    return { username: u, password: p };
  }
  // RabbitMQ answers an unknown mechanism with a connection-level COMMAND_INVALID.
  throw new WarrenError('COMMAND_INVALID', `unknown authentication mechanism '${mechanism}'`);
}

export function refused(mechanism: string): WarrenError {
  return new WarrenError(
    'ACCESS_REFUSED',
    `Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`,
    'connection',
  );
}
