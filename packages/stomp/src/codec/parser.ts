/*
 * Incremental STOMP frame parser.
 *
 * Grammar (STOMP 1.2 "Augmented BNF"; where this parser is more lenient, the note says why):
 *
 *   NULL         = <octet 0>
 *   LF           = <octet 10>
 *   CR           = <octet 13>
 *   EOL          = [CR] LF              ; 1.2 added CR LF; taken in every version, as it is harmless
 *   frame-stream = 1*( noise frame ) noise
 *   noise        = *( EOL | NULL )      ; EOLs are heart-beats, each reported as liveness; a NULL is skipped, as
 *                                       ; RabbitMQ's parser does (its grammar: noise ::= *(NUL | eol))
 *   frame        = command EOL
 *                  *( header EOL )
 *                  EOL
 *                  *OCTET               ; content-length octets if that header is present, else up to the NULL
 *                  NULL
 *   command      = client-command | server-command     ; checked as soon as the command line ends, see below
 *   header       = header-name ":" header-value        ; split at the FIRST colon
 *   header-name  = 1*<any OCTET except CR, LF, ":">
 *   header-value = *<any OCTET except CR, LF>          ; 1.2 also excludes ":", but 1.0 clients send colons
 *                                                      ; in values (URLs, times) and RabbitMQ takes them
 *
 * The command line is judged on its own, before any header is read, so a peer that speaks no STOMP is turned
 * away at its first line, not after filling a header-line or pre-CONNECT budget:
 *   - before markConnected(), with `connectCommands` set (a server: CONNECT, STOMP), only those are legal, and a
 *     line still arriving is refused at its first octet that cannot begin one of them;
 *   - otherwise a command the parser does not know is for the session to refuse (RabbitMQ answers "Bad
 *     command" and carries on), but only if it is plausible: at most stompMaxCommandLength octets, no control
 *     octet, valid UTF-8. Anything else is a protocol error, also while the line is still arriving.
 *
 * Header text is UTF-8 and is unescaped per the negotiated version (see escape.ts). Line ends are found with
 * Buffer#indexOf, never byte by byte in JavaScript. A frame inside one chunk is read in place; only a line split
 * across chunks is joined, and the body is copied exactly once into memory of its own.
 */
import { isUtf8 } from 'node:buffer';
import { DEFAULT_LIMITS, type Limits } from '@warren/core';
import { unescapeHeader } from './escape';
import { EMPTY_BODY, isEscapeExempt, type StompFrame, type StompHeaders, type StompVersion } from './frame';
import { StompProtocolError, quoteBytes, quoteText } from './protocol-error';

const NUL = 0x00;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const DEL = 0x7f;
const NON_ASCII = 0x80;

// What the parser is waiting for.
const IDLE = 0; // EOLs between frames, or the first octet of a command
const HEAD = 1; // the command line and header lines, up to the blank line
const COUNTED_BODY = 2; // content-length octets
const TERMINATOR = 3; // the NULL after a counted body
const SCANNED_BODY = 4; // octets up to the first NULL (no content-length)
const DONE = 5; // failed or destroyed: input is ignored

const CONTENT_LENGTH_VALUE = /^[0-9]+$/;

export interface StompParserHandler {
  /** A complete frame. The parser is already past it, so the handler may call markConnected() or destroy(). */
  onFrame(frame: StompFrame): void;
  /** One EOL outside a frame: a heart-beat (STOMP 1.1 "Heart-beating"). Liveness only. */
  onHeartbeat(): void;
  /** The input broke the grammar or a limit. Called once; the parser ignores all input after it. */
  onError(error: StompProtocolError): void;
}

export type StompParserLimits = Pick<
  Limits,
  | 'stompMaxFrameSize'
  | 'stompMaxHeaders'
  | 'stompMaxHeaderLength'
  | 'stompMaxPreConnectBytes'
  | 'stompMaxCommandLength'
>;

export interface StompParserOptions {
  /** Defaults to DEFAULT_LIMITS; a full Limits object may be passed as is. */
  limits?: Partial<StompParserLimits>;
  /**
   * The only commands legal before markConnected(): a server passes CONNECT and STOMP (STOMP 1.2 "Connecting":
   * the first frame is CONNECT or STOMP). Unset, any plausible command is taken, as a client reading a server's
   * CONNECTED or ERROR needs.
   */
  connectCommands?: readonly string[];
}

export class StompParser {
  private readonly handler: StompParserHandler;
  private readonly maxFrameSize: number;
  private readonly maxHeaders: number;
  private readonly maxHeaderLength: number;
  private readonly maxPreConnectBytes: number;
  private readonly maxCommandLength: number;
  private readonly connectCommands: readonly Buffer[] | undefined;

  private state = IDLE;
  private version: StompVersion = '1.0';
  private connected = false;
  private preConnectBytes = 0;

  // The frame being read. Fields are reset in startFrame(), so the object keeps one shape.
  private command = '';
  private headers: StompHeaders = new Map();
  private unescape = false;
  private headerCount = 0;
  private frameBytes = 0;
  private body: Buffer = EMPTY_BODY;
  private bodyFilled = 0;

  // A header line or an uncounted body that continues past the current chunk: views of earlier chunks, held
  // only until the line or body ends (then joined into one copy) and bounded by the limits meanwhile.
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(handler: StompParserHandler, options: StompParserOptions = {}) {
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.handler = handler;
    this.maxFrameSize = limits.stompMaxFrameSize;
    this.maxHeaders = limits.stompMaxHeaders;
    this.maxHeaderLength = limits.stompMaxHeaderLength;
    this.maxPreConnectBytes = limits.stompMaxPreConnectBytes;
    this.maxCommandLength = limits.stompMaxCommandLength;
    this.connectCommands = options.connectCommands?.map((command) => Buffer.from(command, 'utf8'));
  }

  /** The version header escapes are decoded for; 1.0 (none) until markConnected(). */
  get negotiatedVersion(): StompVersion {
    return this.version;
  }

  /** True once the parser has failed or been destroyed. */
  get destroyed(): boolean {
    return this.state === DONE;
  }

  /**
   * The session accepted CONNECT: decode later frames for `version` and stop counting the pre-CONNECT budget.
   * Safe to call from onFrame: the rest of the current chunk is read with the new settings.
   */
  markConnected(version: StompVersion): void {
    this.version = version;
    this.connected = true;
  }

  /** Stops parsing, also in the middle of a chunk (after DISCONNECT, or when the session closes). */
  destroy(): void {
    this.state = DONE;
    this.pending = [];
    this.pendingBytes = 0;
    this.body = EMPTY_BODY;
  }

  /** Parses a TCP chunk or WebSocket message. Frames may span chunks; one chunk may hold many frames. */
  feed(chunk: Buffer): void {
    let pos = 0;
    try {
      while (pos < chunk.length) {
        switch (this.state) {
          case IDLE:
            pos = this.skipEols(chunk, pos);
            break;
          case HEAD:
            pos = this.readHead(chunk, pos);
            break;
          case COUNTED_BODY:
            pos = this.readCountedBody(chunk, pos);
            break;
          case TERMINATOR:
            pos = this.readTerminator(chunk, pos);
            break;
          case SCANNED_BODY:
            pos = this.scanBody(chunk, pos);
            break;
          default:
            return;
        }
      }
    } catch (error) {
      this.destroy();
      // Only the parser's own errors are input errors. Anything else was thrown by a handler: it must surface,
      // and the parser stops because the rest of the chunk is lost, so the stream can no longer be framed.
      if (!(error instanceof StompProtocolError)) throw error;
      this.handler.onError(error);
    }
  }

  private skipEols(chunk: Buffer, pos: number): number {
    while (pos < chunk.length) {
      const octet = chunk[pos];
      if (octet === LF) {
        pos++;
        this.chargePreConnect(1);
        this.handler.onHeartbeat();
        if (this.state === DONE) return chunk.length;
      } else if (octet === CR) {
        // The CR of a CR LF heart-beat; its LF is what gets reported.
        pos++;
        this.chargePreConnect(1);
      } else if (octet === NUL) {
        // Inter-frame noise (RabbitMQ: noise ::= *(NUL | eol)): a client that ends a frame with two NULLs, or
        // pads, loses nothing. Not liveness news beyond what receive() already noted; still counted before
        // CONNECT, so endless NULLs there run out of budget like endless EOLs.
        pos++;
        this.chargePreConnect(1);
      } else {
        this.startFrame();
        return pos;
      }
    }
    return pos;
  }

  private startFrame(): void {
    this.state = HEAD;
    this.command = '';
    this.headers = new Map();
    this.unescape = false;
    this.headerCount = 0;
    this.frameBytes = 0;
    this.body = EMPTY_BODY;
    this.bodyFilled = 0;
  }

  private readHead(chunk: Buffer, pos: number): number {
    while (this.state === HEAD && pos < chunk.length) {
      if (this.command === '') {
        pos = this.readCommandLine(chunk, pos);
        continue;
      }
      const lf = chunk.indexOf(LF, pos);
      if (lf === -1) {
        this.holdPartialLine(chunk, pos);
        return chunk.length;
      }
      this.charge(lf + 1 - pos);
      let line = chunk;
      let start = pos;
      let stop = lf;
      if (this.pendingBytes > 0) {
        // The line began in an earlier chunk: join it (a copy bounded by the header-line limit).
        this.pending.push(chunk.subarray(pos, lf));
        line = Buffer.concat(this.pending, this.pendingBytes + lf - pos);
        start = 0;
        stop = line.length;
        this.pending = [];
        this.pendingBytes = 0;
      }
      pos = lf + 1;
      if (stop > start && line[stop - 1] === CR) stop--; // EOL = [CR] LF
      if (stop - start > this.maxHeaderLength) {
        throw new StompProtocolError(
          'header-too-long',
          `Header line exceeds ${this.maxHeaderLength} bytes`,
          quoteBytes(line, start, stop),
        );
      }
      if (stop === start) this.endHead();
      else this.readHeader(line, start, stop);
    }
    return pos;
  }

  private holdPartialLine(chunk: Buffer, pos: number): void {
    this.charge(chunk.length - pos);
    this.pending.push(chunk.subarray(pos));
    this.pendingBytes += chunk.length - pos;
    // +1: the last octet held may be the CR of the line's EOL, which the limit does not count.
    if (this.pendingBytes > this.maxHeaderLength + 1) {
      const held = Buffer.concat(this.pending, Math.min(this.pendingBytes, 64));
      throw new StompProtocolError(
        'header-too-long',
        `Header line exceeds ${this.maxHeaderLength} bytes`,
        quoteBytes(held, 0, held.length),
      );
    }
  }

  /**
   * The command line, checked before anything else of the frame is read. Only its first stompMaxCommandLength
   * + 2 octets (line, CR, LF) can matter, so a runaway line is refused there, without holding more of it.
   */
  private readCommandLine(chunk: Buffer, pos: number): number {
    const end = Math.min(chunk.length, pos + this.maxCommandLength + 2 - this.pendingBytes);
    let lf = chunk.indexOf(LF, pos);
    if (lf >= end) lf = -1;
    const stopInChunk = lf === -1 ? end : lf;
    let line = chunk;
    let start = pos;
    let stop = stopInChunk;
    if (this.pendingBytes > 0) {
      // Begun in an earlier chunk: a copy of at most stompMaxCommandLength + 2 octets.
      this.pending.push(chunk.subarray(pos, stopInChunk));
      line = Buffer.concat(this.pending, this.pendingBytes + stopInChunk - pos);
      this.pending.pop();
      start = 0;
      stop = line.length;
    }
    if (lf === -1) {
      // Refused now if it already cannot become a command; else held until its LF. A line that reached `end`
      // without one is over the limit, so nothing past `end` is ever held.
      this.checkCommand(line, start, stop, false);
      if (end < chunk.length) this.commandTooLong(line, start, stop);
      this.charge(chunk.length - pos);
      this.pending.push(chunk.subarray(pos));
      this.pendingBytes += chunk.length - pos;
      return chunk.length;
    }
    if (stop > start && line[stop - 1] === CR) stop--; // EOL = [CR] LF
    this.checkCommand(line, start, stop, true);
    this.charge(lf + 1 - pos);
    this.pending = [];
    this.pendingBytes = 0;
    // Never empty: skipEols starts a frame only at an octet other than CR, LF and NULL.
    this.command = line.toString('utf8', start, stop);
    // STOMP 1.2 "Value Encoding": CONNECT and CONNECTED frames are never escaped.
    this.unescape = this.version !== '1.0' && !isEscapeExempt(this.command);
    return lf + 1;
  }

  /**
   * Whether `line[start, stop)` is, or (`complete` false: the line is still arriving) can still become, a
   * command this parser takes. Throws the protocol error if not.
   */
  private checkCommand(line: Buffer, start: number, stop: number, complete: boolean): void {
    let end = stop;
    // A line still arriving may end in the CR of its CR LF.
    if (!complete && end > start && line[end - 1] === CR) end--;
    const length = end - start;
    if (this.connectCommands !== undefined && !this.connected) {
      for (const command of this.connectCommands) {
        const fits = complete ? length === command.length : length <= command.length;
        if (fits && command.compare(line, start, end, 0, length) === 0) return;
      }
      // STOMP 1.2 "Connecting": the first frame is CONNECT (or STOMP); RabbitMQ's wording.
      throw new StompProtocolError(
        'expected-connect',
        'Illegal command',
        quoteBytes(line, start, stop),
        'You must log in using CONNECT first',
      );
    }
    // STOMP 1.2 "Augmented BNF": a command is one of fifteen upper-case words; the limit leaves room for an
    // unknown one to be answered politely by the session, and no more.
    // Control octets are looked for before the length is judged, and only within the first
    // stompMaxCommandLength octets: the verdict must not depend on how much of the line one read delivered
    // (found by the stomp-parser fuzzer, which cuts every input at random points).
    let seen = 0;
    const scanEnd = Math.min(end, start + this.maxCommandLength);
    for (let i = start; i < scanEnd; i++) {
      const octet = line[i] as number;
      if (octet < SPACE || octet === DEL) {
        throw new StompProtocolError(
          'bad-command',
          'Command line holds a control octet',
          quoteBytes(line, start, stop),
        );
      }
      seen |= octet;
    }
    if (length > this.maxCommandLength) this.commandTooLong(line, start, stop);
    // Only a finished line can be judged: a UTF-8 sequence may be split across chunks. ASCII needs no check.
    if (complete && (seen & NON_ASCII) !== 0 && !isUtf8(line.subarray(start, end))) {
      throw new StompProtocolError('bad-command', 'Command is not UTF-8', quoteBytes(line, start, stop));
    }
  }

  private commandTooLong(line: Buffer, start: number, stop: number): never {
    throw new StompProtocolError(
      'command-too-long',
      `Command line exceeds ${this.maxCommandLength} bytes`,
      quoteBytes(line, start, stop),
    );
  }

  private readHeader(line: Buffer, start: number, stop: number): void {
    if (++this.headerCount > this.maxHeaders) {
      throw new StompProtocolError('too-many-headers', `Frame has more than ${this.maxHeaders} headers`);
    }
    // One decode per line, then split in string space: ':' is ASCII, so it never occurs inside a UTF-8 sequence.
    const text = line.toString('utf8', start, stop);
    const colon = text.indexOf(':');
    if (colon === -1) {
      throw new StompProtocolError('missing-colon', 'Header line has no colon', quoteText(text));
    }
    if (colon === 0) {
      throw new StompProtocolError('empty-header-name', 'Header name is empty', quoteText(text));
    }
    let name = text.slice(0, colon);
    let value = text.slice(colon + 1);
    if (this.unescape) {
      if (name.includes('\\')) name = unescapeHeader(name, this.version);
      if (value.includes('\\')) value = unescapeHeader(value, this.version);
    }
    // STOMP 1.2 "Repeated Header Entries": only the first occurrence is used.
    if (!this.headers.has(name)) this.headers.set(name, value);
  }

  private endHead(): void {
    const declared = this.headers.get('content-length');
    if (declared === undefined) {
      this.state = SCANNED_BODY;
      return;
    }
    // STOMP 1.2 "Header content-length": an octet count, so digits only (RabbitMQ refuses anything else too).
    if (!CONTENT_LENGTH_VALUE.test(declared)) {
      throw new StompProtocolError('bad-content-length', 'Invalid content-length', quoteText(declared));
    }
    const length = Number(declared);
    // Refused before allocating: the declared size alone must fit the frame limit (+1 for the NULL).
    if (this.frameBytes + length + 1 > this.maxFrameSize) this.frameTooLarge();
    if (!this.connected && this.preConnectBytes + length + 1 > this.maxPreConnectBytes)
      this.preConnectTooLarge();
    if (length === 0) {
      this.state = TERMINATOR;
      return;
    }
    // allocUnsafeSlow: memory of its own. allocUnsafe would carve small bodies out of Node's shared 8 KiB pool,
    // and one message sitting in a queue would keep the whole slab alive. Every octet is overwritten below.
    this.body = Buffer.allocUnsafeSlow(length);
    this.bodyFilled = 0;
    this.state = COUNTED_BODY;
  }

  private readCountedBody(chunk: Buffer, pos: number): number {
    const take = Math.min(this.body.length - this.bodyFilled, chunk.length - pos);
    this.charge(take);
    chunk.copy(this.body, this.bodyFilled, pos, pos + take);
    this.bodyFilled += take;
    if (this.bodyFilled === this.body.length) this.state = TERMINATOR;
    return pos + take;
  }

  private readTerminator(chunk: Buffer, pos: number): number {
    // STOMP 1.2 "Header content-length": the frame still ends with a NULL after the counted octets.
    if (chunk[pos] !== NUL) {
      throw new StompProtocolError(
        'missing-nul',
        'Frame not terminated by NULL after content-length octets',
        quoteBytes(chunk, pos, chunk.length),
      );
    }
    this.charge(1);
    this.emit(this.body);
    return pos + 1;
  }

  private scanBody(chunk: Buffer, pos: number): number {
    const nul = chunk.indexOf(NUL, pos);
    if (nul === -1) {
      this.charge(chunk.length - pos);
      this.pending.push(chunk.subarray(pos));
      this.pendingBytes += chunk.length - pos;
      return chunk.length;
    }
    this.charge(nul + 1 - pos);
    let body = EMPTY_BODY;
    const length = this.pendingBytes + nul - pos;
    if (length > 0) {
      body = Buffer.allocUnsafeSlow(length); // see endHead for why not the pool
      let filled = 0;
      for (const piece of this.pending) filled += piece.copy(body, filled);
      chunk.copy(body, filled, pos, nul);
      this.pending = [];
      this.pendingBytes = 0;
    }
    this.emit(body);
    return nul + 1;
  }

  private emit(body: Buffer): void {
    const frame: StompFrame = { command: this.command, headers: this.headers, body };
    this.body = EMPTY_BODY;
    // Before the callback, which may destroy the parser or change its version.
    this.state = IDLE;
    this.handler.onFrame(frame);
  }

  /** Counts octets of the current frame against the frame limit and, before CONNECT, the pre-CONNECT budget. */
  private charge(octets: number): void {
    this.frameBytes += octets;
    if (this.frameBytes > this.maxFrameSize) this.frameTooLarge();
    this.chargePreConnect(octets);
  }

  private chargePreConnect(octets: number): void {
    if (this.connected) return;
    this.preConnectBytes += octets;
    if (this.preConnectBytes > this.maxPreConnectBytes) this.preConnectTooLarge();
  }

  private frameTooLarge(): never {
    throw new StompProtocolError('frame-too-large', `Frame exceeds ${this.maxFrameSize} bytes`);
  }

  private preConnectTooLarge(): never {
    throw new StompProtocolError(
      'pre-connect-budget',
      `More than ${this.maxPreConnectBytes} bytes sent before CONNECT completed`,
    );
  }
}
