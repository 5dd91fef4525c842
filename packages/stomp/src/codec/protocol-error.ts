import { WarrenError } from '@warren/core';

/** Stable, machine-readable cause of a codec failure (the message text may be reworded; these may not). */
export type StompErrorReason =
  | 'expected-connect'
  | 'command-too-long'
  | 'bad-command'
  | 'missing-colon'
  | 'empty-header-name'
  | 'bad-escape'
  | 'bad-content-length'
  | 'missing-nul'
  | 'frame-too-large'
  | 'too-many-headers'
  | 'header-too-long'
  | 'pre-connect-budget';

/** Longest slice of offending input quoted back to the client. */
const SNIPPET_BYTES = 40;

/**
 * A frame the codec cannot accept. Always fatal for the connection (STOMP 1.2 "ERROR": the server closes the
 * connection after sending it), hence FRAME_ERROR from the core catalogue.
 *
 * `message` is short and single-line so a session can put it in an ERROR frame's `message` header as is;
 * `snippet` quotes the offending bytes (JSON-escaped, so control characters cannot break the frame) for the body,
 * after `advice` (what the client should have sent) when there is any.
 */
export class StompProtocolError extends WarrenError {
  readonly reason: StompErrorReason;
  readonly snippet: string | undefined;
  readonly advice: string | undefined;

  constructor(reason: StompErrorReason, message: string, snippet?: string, advice?: string) {
    super('FRAME_ERROR', message);
    this.name = 'StompProtocolError';
    this.reason = reason;
    this.snippet = snippet;
    this.advice = advice;
  }
}

/** Quotes up to SNIPPET_BYTES of `buf[start, end)` as a JSON string literal: '"SEND\\r"'. */
export function quoteBytes(buf: Buffer, start: number, end: number): string {
  const stop = Math.min(end, start + SNIPPET_BYTES);
  const text = JSON.stringify(buf.toString('utf8', start, stop));
  return stop < end ? `${text}...` : text;
}

/** Quotes a decoded string the same way. */
export function quoteText(text: string): string {
  return text.length > SNIPPET_BYTES
    ? `${JSON.stringify(text.slice(0, SNIPPET_BYTES))}...`
    : JSON.stringify(text);
}
