/*
 * The checks and steps of the AMQP 0-9-1 handshake that need no connection state, as RabbitMQ makes them:
 *
 *   header -> start -> start-ok  (connectionName; the login itself is auth.ts)
 *          -> tune  -> tune-ok   (checkTuneOk)
 *          -> open               (openCore: the core connection in the vhost) -> open-ok
 */
import {
  AccessRefused,
  WarrenError,
  type Broker,
  type Connection,
  type FieldTable,
  type Limits,
  type Logger,
  type Transport,
  type User,
} from '@warren/core';
import { FRAME_MIN_SIZE } from '../codec/frame-reader';

/** Long enough for any name a person gives a connection; a client cannot make every log line huge. */
const CONNECTION_NAME_MAX = 256;

/** The client's connection_name property (pika, amqplib, the Java client), shown in every log line. */
export function connectionName(clientProperties: FieldTable): string | undefined {
  const value = clientProperties['connection_name'];
  const text = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  return typeof text === 'string' && text !== '' ? text.slice(0, CONNECTION_NAME_MAX) : undefined;
}

/**
 * tune-ok, checked as RabbitMQ does: frame-max within [4096, ours] (0 would mean "no limit", which was not
 * offered), and channel-max at most ours (0, "no limit", is above what was offered, and refused the same way).
 */
export function checkTuneOk(m: { frameMax: number; channelMax: number }, limits: Limits): void {
  const max = limits.frameMax;
  if (m.frameMax !== 0 && m.frameMax < FRAME_MIN_SIZE) {
    throw new WarrenError('NOT_ALLOWED', `frame_max=${m.frameMax} < ${FRAME_MIN_SIZE} min size`);
  }
  if (m.frameMax === 0 || m.frameMax > max) {
    throw new WarrenError('NOT_ALLOWED', `frame_max=${m.frameMax} > ${max} max size`);
  }
  if (m.channelMax === 0 || m.channelMax > limits.channelMax) {
    throw new WarrenError(
      'NOT_ALLOWED',
      `negotiated channel_max = ${m.channelMax}${m.channelMax === 0 ? ' (no limit)' : ''} is higher than the maximum allowed value (${limits.channelMax})`,
    );
  }
}

/** connection.open: the core connection of `user` in `vhost`; a refusal is logged with its reason, then thrown. */
export function openCore(
  broker: Broker,
  transport: Transport,
  user: User,
  vhost: string,
  clientProperties: FieldTable,
  log: Logger,
): Connection {
  try {
    return broker.connect(user, vhost, {
      clientProperties,
      protocol: transport.protocol,
      remoteAddress: transport.remoteAddress,
      remotePort: transport.remotePort,
      localAddress: transport.localAddress ?? '',
      localPort: transport.localPort ?? 0,
    });
  } catch (e) {
    if (e instanceof AccessRefused) log.warn({ user: user.name, vhost, reason: e.reason }, 'login refused');
    throw e;
  }
}
