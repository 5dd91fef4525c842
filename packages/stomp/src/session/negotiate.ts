import { STOMP_VERSIONS, type StompVersion } from '../codec/frame';

/** The 1.0..1.2 header RabbitMQ puts on every ERROR, so a client learns what the server speaks. */
export const SUPPORTED = '1.0,1.1,1.2';

/**
 * STOMP 1.1/1.2 "Protocol Negotiation": the highest version both sides speak. No accept-version at all is a
 * 1.0 client (Net::Stomp sends none). Returns undefined when nothing is in common.
 */
export function chooseVersion(acceptVersion: string | undefined): StompVersion | undefined {
  if (acceptVersion === undefined) return '1.0';
  const offered = new Set(acceptVersion.split(',').map((v) => v.trim()));
  return STOMP_VERSIONS.find((v) => offered.has(v));
}

export interface HeartBeat {
  /** Smallest interval the client can send at (cx); 0 = it will not send heart-beats. */
  readonly clientSends: number;
  /** Interval the client wants to receive at (cy); 0 = it wants none. */
  readonly clientWants: number;
}

const HEART_BEAT = /^\s*([0-9]{1,9})\s*,\s*([0-9]{1,9})\s*$/;

/** STOMP 1.1 "Heart-beating": `heart-beat:cx,cy`; absent means 0,0. Undefined when malformed. */
export function parseHeartBeat(header: string | undefined): HeartBeat | undefined {
  if (header === undefined) return { clientSends: 0, clientWants: 0 };
  const m = HEART_BEAT.exec(header);
  if (m === null) return undefined;
  return { clientSends: Number(m[1]), clientWants: Number(m[2]) };
}
