import { isWarrenError } from '@warren/core';
import { StompProtocolError } from '../codec/protocol-error';

/**
 * A failure to be reported to the client as an ERROR frame: `message` becomes the `message` header (short,
 * RabbitMQ's wording where RabbitMQ has one), `detail` the body. `fatal` failures close the connection after
 * the ERROR (STOMP 1.2 "ERROR"); others leave the session usable, as RabbitMQ does for a bad frame that broke
 * nothing (a SEND without destination, an unknown command).
 */
export class StompFailure extends Error {
  constructor(
    message: string,
    readonly detail: string,
    readonly fatal = false,
  ) {
    super(message);
    this.name = 'StompFailure';
  }
}

/**
 * Any error thrown while handling a frame, as a StompFailure. Core errors end the session as a channel error
 * ends RabbitMQ's (its STOMP connection is one AMQP channel): `message:not_found`, body "NOT_FOUND - no queue ...".
 */
export function toFailure(error: unknown): StompFailure {
  if (error instanceof StompFailure) return error;
  if (error instanceof StompProtocolError) {
    const { advice, snippet } = error;
    const detail =
      advice === undefined ? (snippet ?? '') : snippet === undefined ? advice : `${advice}, not ${snippet}`;
    return new StompFailure(error.message, detail, true);
  }
  if (isWarrenError(error)) return new StompFailure(error.code.toLowerCase(), error.replyText, true);
  return new StompFailure('Processing error', 'Processing error', true);
}
