/**
 * STOMP inputs for the fuzzers: frames with commands, headers and destinations drawn from small sets (so a
 * SUBSCRIBE, a SEND and an ACK meet on the same destination), headers with random values, and garbage.
 */
import fc from 'fast-check';
import { serializeFrame, type StompVersion } from '@warren/stomp';
import { CONTROL_QUEUE } from './names';

const COMMANDS = [
  'SEND',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'ACK',
  'NACK',
  'BEGIN',
  'COMMIT',
  'ABORT',
  'DISCONNECT',
  'CONNECT',
  'STOMP',
  'BOGUS',
  '',
];
const DESTINATIONS = [
  '/queue/a',
  '/queue/b',
  '/topic/t.x',
  '/topic/#',
  '/exchange/amq.direct/a',
  '/exchange/amq.fanout',
  '/exchange/nope/k',
  `/amq/queue/${CONTROL_QUEUE}`,
  `/queue/${CONTROL_QUEUE}`,
  '/temp-queue/r',
  '/reply-queue/r',
  'a',
  '/queue/',
  '/queue/a/b',
  '',
  `/topic/${'k'.repeat(300)}`,
];
const HEADER_NAMES = [
  'destination',
  'id',
  'ack',
  'receipt',
  'transaction',
  'content-length',
  'content-type',
  'persistent',
  'priority',
  'expiration',
  'reply-to',
  'selector',
  'prefetch-count',
  'durable',
  'auto-delete',
  'x-queue-name',
  'x-message-ttl',
  'x-max-priority',
  'message-id',
  'subscription',
  'requeue',
  'heart-beat',
  'accept-version',
  'x-custom',
];
const VALUES = [
  '',
  'true',
  'false',
  'False',
  '0',
  '1',
  '5',
  '-1',
  '255',
  '256',
  'client',
  'client-individual',
  'auto',
  'tx1',
  'r1',
  'a = 1',
  "price > 3 AND b LIKE '%x%'",
  '(((',
  'T_s1@@x@@1',
  '1@@2',
  '10,10',
  'a'.repeat(300),
];

export interface StompFrameModel {
  command: string;
  headers: [string, string][];
  body: Buffer;
}

export const stompFrame: fc.Arbitrary<StompFrameModel> = fc.record({
  command: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...COMMANDS) }, fc.string({ maxLength: 6 })),
  headers: fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.tuple(fc.constant('destination'), fc.constantFrom(...DESTINATIONS)) },
      { weight: 10, arbitrary: fc.tuple(fc.constantFrom(...HEADER_NAMES), fc.constantFrom(...VALUES)) },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.string({ minLength: 1, maxLength: 6 }), fc.string({ maxLength: 8 })),
      },
    ),
    { maxLength: 6 },
  ),
  body: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
});

/** A frame's bytes; serializeFrame adds content-length whenever the body needs it. */
export function stompFrameBytes(f: StompFrameModel, version: StompVersion): Buffer {
  try {
    return Buffer.concat(serializeFrame(f.command || 'X', f.headers, f.body, version));
  } catch {
    return Buffer.from(`${f.command}\n\n\0`);
  }
}

export function connectBytes(version: '1.0' | '1.1' | '1.2'): Buffer {
  const headers: [string, string][] = [
    ['login', 'guest'],
    ['passcode', 'guest'],
  ];
  if (version !== '1.0') headers.push(['accept-version', version], ['host', '/']);
  return Buffer.concat(serializeFrame('CONNECT', headers, Buffer.alloc(0), '1.0'));
}
