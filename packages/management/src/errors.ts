import { isWarrenError, type ErrorCode } from '@warren/core';

/**
 * The one error of the API: an HTTP status and RabbitMQ's body `{"error": ..., "reason": ...}`. Handlers throw
 * it (or a core WarrenError, which `toApiError` maps); the app's error handler is the only place that writes an
 * error response, so every failure, including a bug, leaves as JSON and never past the request.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
    /** Extra response headers: WWW-Authenticate on 401, Allow on 405. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(reason);
    this.name = 'ApiError';
  }

  get body(): { error: string; reason: string } {
    return { error: this.error, reason: this.reason };
  }
}

/** RabbitMQ's realm: clients and browsers show it in their login prompt. */
const REALM = { 'WWW-Authenticate': 'Basic realm="RabbitMQ Management"' };

export const badRequest = (reason: string): ApiError => new ApiError(400, 'bad_request', reason);
/** RabbitMQ 3.x spells the error "not_authorized" on the wire (its function is not_authorised). */
export const notAuthorised = (reason: string): ApiError => new ApiError(401, 'not_authorized', reason, REALM);
export const forbidden = (reason: string): ApiError => new ApiError(403, 'not_authorised', reason);
export const notFound = (): ApiError => new ApiError(404, 'Object Not Found', 'Not Found');
export const methodNotAllowed = (allow: readonly string[]): ApiError =>
  new ApiError(405, 'method_not_allowed', 'Method Not Allowed', { Allow: allow.join(', ') });
export const conflict = (reason: string): ApiError => new ApiError(409, 'conflict', reason);

/** How each core error code answers over HTTP, as RabbitMQ's management plugin answers its AMQP errors. */
const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  NOT_FOUND: 404,
  ACCESS_REFUSED: 403,
  NOT_ALLOWED: 403,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 400,
  COMMAND_INVALID: 400,
  SYNTAX_ERROR: 400,
  NOT_IMPLEMENTED: 501,
  CONNECTION_FORCED: 503,
};

/** Any thrown value as the response to send: an ApiError as is, a core error by its code, the rest as 500. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isWarrenError(err)) {
    const status = STATUS_OF[err.code] ?? 500;
    if (status === 404) return notFound();
    if (status === 403) return forbidden(err.replyText);
    return new ApiError(status, status === 400 ? 'bad_request' : 'internal_server_error', err.replyText);
  }
  // fastify's own errors (a body over bodyLimit, a bad content length) carry their status.
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiError(status, 'bad_request', (err as Error).message);
  }
  return new ApiError(500, 'internal_server_error', 'internal error; see the broker log');
}
