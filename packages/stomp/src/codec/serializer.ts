/*
 * STOMP frame serializer.
 *
 * Grammar written (the parser's, narrowed to one spelling):
 *
 *   frame = command LF *( header LF ) LF *OCTET NULL
 *
 * - LF only: CR LF is 1.2-only, LF is valid in every version.
 * - content-length is written whenever there is a body (from the body's actual size, never from the caller's
 *   headers), so bodies may hold NULLs and the peer never scans them (STOMP 1.2 "Header content-length").
 * - Headers are escaped for the session's version; CONNECT / CONNECTED never (STOMP 1.2 "Value Encoding").
 *
 * Output is a chunk list — head, body, NULL — for socket.cork() + write() of each (or writev): the body is
 * never copied into a joined buffer.
 */
import { escapeHeader } from './escape';
import { FRAME_END, isEscapeExempt, type StompHeaderInput, type StompVersion } from './frame';

/**
 * Chunks of one frame, to be written in order. The body chunk is the caller's Buffer itself, so it must not be
 * modified until written.
 */
export type FrameChunks = Buffer[];

function encodeLines(headers: StompHeaderInput, version: StompVersion, raw: boolean): string {
  let lines = '';
  for (const [name, value] of headers) {
    if (name === 'content-length') continue;
    lines += `${escapeHeader(name, version, raw)}:${escapeHeader(value, version, raw)}\n`;
  }
  return lines;
}

/** Any frame: CONNECTED, RECEIPT, ERROR, a one-off MESSAGE, or a client frame (tests, the load generator). */
export function serializeFrame(
  command: string,
  headers: StompHeaderInput,
  body: Buffer,
  version: StompVersion,
): FrameChunks {
  const head = `${command}\n${encodeLines(headers, version, isEscapeExempt(command))}`;
  // Without a body the whole frame is one small buffer: one write instead of three.
  if (body.length === 0) return [Buffer.from(`${head}\n\0`, 'utf8')];
  return [Buffer.from(`${head}content-length:${body.length}\n\n`, 'utf8'), body, FRAME_END];
}

/**
 * The message-level tail of a MESSAGE head — its headers, content-length and the blank line — encoded once per
 * message (and version) and shared by every subscriber it is delivered to.
 */
export function encodeHeaderBlock(
  headers: StompHeaderInput,
  bodyLength: number,
  version: StompVersion,
): Buffer {
  const lines = encodeLines(headers, version, false);
  return Buffer.from(bodyLength > 0 ? `${lines}content-length:${bodyLength}\n\n` : `${lines}\n`, 'utf8');
}

/**
 * One subscriber's MESSAGE: only its own headers (subscription, message-id, ack) are encoded here; the rest is
 * the shared block from encodeHeaderBlock for the same body and version. Its own headers come first so that
 * (first occurrence wins) a same-named header carried by the message can never override them.
 */
export function serializeMessage(
  perSubscriber: StompHeaderInput,
  shared: Buffer,
  body: Buffer,
  version: StompVersion,
): FrameChunks {
  const head = Buffer.from(`MESSAGE\n${encodeLines(perSubscriber, version, false)}`, 'utf8');
  return body.length === 0 ? [head, shared, FRAME_END] : [head, shared, body, FRAME_END];
}
