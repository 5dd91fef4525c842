/**
 * Header value encoding per version.
 *
 *   1.0  none: octets are taken as they are (the 1.0 spec has no escapes).
 *   1.1  "\n" -> LF, "\c" -> ":", "\\" -> "\"                    (STOMP 1.1 "Value Encoding")
 *   1.2  1.1 plus "\r" -> CR                                       (STOMP 1.2 "Value Encoding")
 *
 * Both specs: "Undefined escape sequences such as \t MUST be treated as a fatal protocol error", and CONNECT /
 * CONNECTED frames are never escaped (the caller decides that, see isEscapeExempt).
 */
import type { StompVersion } from './frame';
import { StompProtocolError, quoteText } from './protocol-error';

const DECODE_11: Readonly<Record<string, string>> = { n: '\n', c: ':', '\\': '\\' };
const DECODE_12: Readonly<Record<string, string>> = { ...DECODE_11, r: '\r' };

// [\s\S]? so that a lone trailing backslash matches too (with an empty escape letter) and is rejected.
const ESCAPE_SEQUENCE = /\\([\s\S]?)/g;

/** Decodes escapes in a header name or value; callers skip it when the text has no backslash. */
export function unescapeHeader(text: string, version: StompVersion): string {
  if (version === '1.0') return text;
  const table = version === '1.1' ? DECODE_11 : DECODE_12;
  return text.replace(ESCAPE_SEQUENCE, (_sequence: string, letter: string) => {
    const decoded = table[letter];
    if (decoded === undefined) {
      throw new StompProtocolError('bad-escape', `Undefined escape sequence in header`, quoteText(text));
    }
    return decoded;
  });
}

const NEEDS_ESCAPE_11 = /[\\\n:]/;
const NEEDS_ESCAPE_12 = /[\\\r\n:]/;
const ESCAPE_11 = /[\\\n:]/g;
const ESCAPE_12 = /[\\\r\n:]/g;
const ENCODE: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', ':': '\\c' };
const LINE_BREAKS = /[\r\n]/g;

function encodeChar(char: string): string {
  return ENCODE[char] ?? char;
}

/**
 * Encodes a header name or value for the wire. `raw` is for 1.0 and for CONNECT/CONNECTED, where nothing may be
 * escaped: a CR or LF there would end the header line and let a message header (say, one copied from an AMQP
 * headers table) inject headers of its own, so they become spaces — the only lossy case, and 1.0 offers no
 * lossless one. A 1.1 CR is left as is: 1.1 defines no escape for it and a CR not followed by LF is plain data.
 */
export function escapeHeader(text: string, version: StompVersion, raw: boolean): string {
  if (raw || version === '1.0') return text.replace(LINE_BREAKS, ' ');
  if (version === '1.1') return NEEDS_ESCAPE_11.test(text) ? text.replace(ESCAPE_11, encodeChar) : text;
  return NEEDS_ESCAPE_12.test(text) ? text.replace(ESCAPE_12, encodeChar) : text;
}
