import { getSystemErrorMap } from 'node:util';

/**
 * The one error catalogue. Every failure the core reports is a WarrenError with a stable code; the protocols
 * translate it: AMQP into channel.close / connection.close with `replyCode`, STOMP into an ERROR frame.
 * `scope` says what the failure takes down (AMQP 0-9-1 section 1.2 "Error handling": soft errors close the
 * channel, hard errors the connection).
 */
export type ErrorScope = 'channel' | 'connection';

export const ERRORS = {
  CONTENT_TOO_LARGE: { replyCode: 311, scope: 'channel' },
  NO_ROUTE: { replyCode: 312, scope: 'channel' },
  NO_CONSUMERS: { replyCode: 313, scope: 'channel' },
  CONNECTION_FORCED: { replyCode: 320, scope: 'connection' },
  INVALID_PATH: { replyCode: 402, scope: 'connection' },
  ACCESS_REFUSED: { replyCode: 403, scope: 'channel' },
  NOT_FOUND: { replyCode: 404, scope: 'channel' },
  RESOURCE_LOCKED: { replyCode: 405, scope: 'channel' },
  PRECONDITION_FAILED: { replyCode: 406, scope: 'channel' },
  FRAME_ERROR: { replyCode: 501, scope: 'connection' },
  SYNTAX_ERROR: { replyCode: 502, scope: 'connection' },
  COMMAND_INVALID: { replyCode: 503, scope: 'connection' },
  CHANNEL_ERROR: { replyCode: 504, scope: 'connection' },
  UNEXPECTED_FRAME: { replyCode: 505, scope: 'connection' },
  RESOURCE_ERROR: { replyCode: 506, scope: 'connection' },
  NOT_ALLOWED: { replyCode: 530, scope: 'connection' },
  NOT_IMPLEMENTED: { replyCode: 540, scope: 'connection' },
  INTERNAL_ERROR: { replyCode: 541, scope: 'connection' },
} as const satisfies Record<string, { replyCode: number; scope: ErrorScope }>;

export type ErrorCode = keyof typeof ERRORS;

export class WarrenError extends Error {
  readonly replyCode: number;
  readonly scope: ErrorScope;

  constructor(
    readonly code: ErrorCode,
    message: string,
    scope?: ErrorScope,
  ) {
    super(message);
    this.name = 'WarrenError';
    this.replyCode = ERRORS[code].replyCode;
    // A few codes change scope with context (ACCESS_REFUSED on connection.open is a connection error).
    this.scope = scope ?? ERRORS[code].scope;
  }

  /** RabbitMQ's reply-text shape: "NOT_FOUND - no queue 'q' in vhost '/'". */
  get replyText(): string {
    return `${this.code} - ${this.message}`;
  }
}

/**
 * Why the broker turned a client away at login or at its vhost, in the operator's words. It goes to the log
 * only: the client hears the error's own message, which for an unknown user and a bad password is the same
 * generic refusal (RabbitMQ's rule: a client cannot probe which user names exist).
 */
export type RefusalReason =
  | 'unknown user'
  | 'bad password'
  | 'malformed credentials'
  | 'no client certificate'
  | 'loopback-only user from a remote address'
  | 'vhost not found'
  | 'no access to vhost';

/** A refused login (ACCESS_REFUSED) or vhost (NOT_ALLOWED), at connection scope, with the reason to log. */
export class AccessRefused extends WarrenError {
  constructor(
    code: 'ACCESS_REFUSED' | 'NOT_ALLOWED',
    message: string,
    readonly reason: RefusalReason,
  ) {
    super(code, message, 'connection');
  }
}

/** What every protocol tells its clients when the broker stops: RabbitMQ's 320 at shutdown. */
export function brokerShutdown(): WarrenError {
  return new WarrenError('CONNECTION_FORCED', "broker forced connection closure with reason 'shutdown'");
}

/**
 * A listener could not bind its port. The message is the one line an operator needs: "cannot listen for
 * AMQP 0-9-1 on port 5672: address already in use (EADDRINUSE)".
 */
export class ListenError extends Error {
  readonly code: string | undefined;

  constructor(
    /** As people name it: 'AMQP 0-9-1', 'STOMP', 'STOMP over WebSocket'. */
    readonly protocol: string,
    readonly host: string,
    readonly port: number,
    cause: NodeJS.ErrnoException,
  ) {
    super(`cannot listen for ${protocol} on port ${port}: ${systemErrorText(cause)}`, { cause });
    this.name = 'ListenError';
    this.code = cause.code;
  }
}

/** libuv's description of a system error with its code, "address already in use (EADDRINUSE)". */
function systemErrorText(err: NodeJS.ErrnoException): string {
  const known = err.errno === undefined ? undefined : getSystemErrorMap().get(err.errno);
  if (known === undefined) return err.message;
  const [name, description] = known;
  return `${description} (${name})`;
}

/**
 * Thrown by a protocol's delivery sink for a message it cannot put on its wire (a property its frames cannot
 * carry: a routing key over AMQP's 255 octets from a STOMP destination, say). The fault lies with the message,
 * not with the connection: the core rejects that delivery (dead-letter exchange or drop), logs a warning, counts
 * it, and the subscriber carries on with the next message.
 */
export class UntranslatableMessage extends Error {
  constructor(
    message: string,
    /** The error of the codec that refused it, for the log. */
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'UntranslatableMessage';
  }
}

export function isWarrenError(e: unknown): e is WarrenError {
  return e instanceof WarrenError;
}

/** Quotes a resource the way RabbitMQ's messages do: queue 'q' in vhost '/'. */
export function describe(kind: 'queue' | 'exchange', name: string, vhost: string): string {
  return `${kind} '${name}' in vhost '${vhost}'`;
}
