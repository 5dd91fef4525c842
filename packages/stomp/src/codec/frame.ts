/**
 * The STOMP frame as the codec hands it to a session, and the commands of both directions.
 *
 * STOMP 1.2 "Repeated Header Entries": when a header appears more than once, only the first occurrence is used;
 * later ones "MAY be ignored". So headers are a Map filled first-occurrence-wins: the session reads any header
 * in O(1), iteration keeps wire order (for copying SEND headers into an AMQP headers table), and repeats are
 * dropped at parse time instead of being carried through the broker.
 */

export type StompVersion = '1.0' | '1.1' | '1.2';

/** Versions this codec speaks, highest first (the order a server picks from `accept-version`). */
export const STOMP_VERSIONS: readonly StompVersion[] = ['1.2', '1.1', '1.0'];

export type StompHeaders = Map<string, string>;

/** What the serializer accepts: a Map, an array of pairs, or `Object.entries(record)`. */
export type StompHeaderInput = Iterable<readonly [string, string]>;

export interface StompFrame {
  readonly command: string;
  readonly headers: StompHeaders;
  /** Owns its memory: never a view into a socket chunk, so a queued message pins nothing else. */
  readonly body: Buffer;
}

/** Frames a client sends (STOMP is the 1.1+ synonym of CONNECT). */
export const ClientCommand = {
  CONNECT: 'CONNECT',
  STOMP: 'STOMP',
  SEND: 'SEND',
  SUBSCRIBE: 'SUBSCRIBE',
  UNSUBSCRIBE: 'UNSUBSCRIBE',
  ACK: 'ACK',
  NACK: 'NACK',
  BEGIN: 'BEGIN',
  COMMIT: 'COMMIT',
  ABORT: 'ABORT',
  DISCONNECT: 'DISCONNECT',
} as const;
export type ClientCommand = (typeof ClientCommand)[keyof typeof ClientCommand];

/** Frames a server sends. */
export const ServerCommand = {
  CONNECTED: 'CONNECTED',
  MESSAGE: 'MESSAGE',
  RECEIPT: 'RECEIPT',
  ERROR: 'ERROR',
} as const;
export type ServerCommand = (typeof ServerCommand)[keyof typeof ServerCommand];

const CLIENT_COMMANDS: ReadonlySet<string> = new Set(Object.values(ClientCommand));
const SERVER_COMMANDS: ReadonlySet<string> = new Set(Object.values(ServerCommand));

export function isClientCommand(command: string): command is ClientCommand {
  return CLIENT_COMMANDS.has(command);
}

export function isServerCommand(command: string): command is ServerCommand {
  return SERVER_COMMANDS.has(command);
}

/**
 * STOMP 1.2 "Value Encoding": "CONNECT and CONNECTED frames do not escape the carriage return, line feed or
 * colon octets" — so a 1.0 client's passcode containing a backslash survives negotiation. STOMP is CONNECT's
 * 1.1+ synonym and gets the same treatment.
 */
export function isEscapeExempt(command: string): boolean {
  return command === 'CONNECT' || command === 'CONNECTED' || command === 'STOMP';
}

/** A heart-beat is one EOL (1.1 "Heart-beating"); LF alone is valid in every version. */
export const HEARTBEAT: Buffer = Buffer.from('\n');

/** Frame terminator; shared by every outgoing frame, never written to. */
export const FRAME_END: Buffer = Buffer.from([0]);

/** Shared body of frames without one; zero-length, so sharing it can never leak data. */
export const EMPTY_BODY: Buffer = Buffer.alloc(0);
