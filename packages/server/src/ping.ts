import { connect } from 'node:net';

/** The AMQP 0-9-1 protocol header a client opens with (spec 4.2.2). */
const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
/** Method frame type, and connection.start's class and method ids (10, 10). */
const FRAME_METHOD = 1;
const CONNECTION_CLASS = 10;
const START_METHOD = 10;

export interface PingTarget {
  host: string;
  port: number;
  timeoutMs: number;
}

/**
 * Whether a broker answers on the AMQP port: it sends the protocol header and waits for connection.start, the
 * first thing a started broker says (RabbitMQ's `rabbitmq-diagnostics ping` asks the node itself; a broker's
 * AMQP listener opens only once durable state is restored, so an answer there means ready for clients). The
 * socket is closed before any login, which the broker does not log, so a health check every few seconds
 * leaves no trace. Resolves with a reason on failure instead of throwing.
 */
export function pingAmqp({
  host,
  port,
  timeoutMs,
}: PingTarget): Promise<{ ok: true } | { ok: false; reason: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const done = (result: { ok: true } | { ok: false; reason: string }): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ ok: false, reason: `no connection.start within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.on('connect', () => socket.write(PROTOCOL_HEADER));
    socket.on('error', (err) => done({ ok: false, reason: err.message }));
    socket.on('close', () => done({ ok: false, reason: 'the broker closed the connection' }));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // type (1) channel (2) size (4), then the method's class id (2) and method id (2).
      if (received.length < 11) return;
      const isStart =
        received[0] === FRAME_METHOD &&
        received.readUInt16BE(7) === CONNECTION_CLASS &&
        received.readUInt16BE(9) === START_METHOD;
      done(
        isStart ? { ok: true } : { ok: false, reason: 'the answer was not an AMQP 0-9-1 connection.start' },
      );
    });
  });
}
