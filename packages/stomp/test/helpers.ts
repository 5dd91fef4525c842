import {
  StompParser,
  StompProtocolError,
  type StompErrorReason,
  type StompParserLimits,
  type StompVersion,
} from '../src';

/** What a parser reported, in order, in a shape `toEqual` compares well. */
export type ParseEvent =
  | { kind: 'frame'; command: string; headers: [string, string][]; body: Buffer }
  | { kind: 'heartbeat' }
  | { kind: 'error'; reason: StompErrorReason; message: string };

export interface ParseOptions {
  limits?: Partial<StompParserLimits>;
  /** Version the session negotiated before the input starts (undefined: still before CONNECT). */
  version?: StompVersion;
  /** A server's parser: only these commands before CONNECT; the first such frame marks it connected. */
  connectCommands?: readonly string[];
  /** The version a frame of connectCommands marks the parser connected with (default 1.2). */
  connectAs?: StompVersion;
}

export function newRecordingParser(options: ParseOptions = {}): {
  parser: StompParser;
  events: ParseEvent[];
} {
  const events: ParseEvent[] = [];
  const gate = options.connectCommands;
  const parser: StompParser = new StompParser(
    {
      onFrame: (frame) => {
        events.push({ kind: 'frame', command: frame.command, headers: [...frame.headers], body: frame.body });
        if (gate?.includes(frame.command) === true) parser.markConnected(options.connectAs ?? '1.2');
      },
      onHeartbeat: () => events.push({ kind: 'heartbeat' }),
      onError: (error) => {
        // Anything else than the codec's own error type would be a bug worth failing loudly on.
        if (!(error instanceof StompProtocolError))
          throw new Error(`unexpected error type: ${String(error)}`);
        events.push({ kind: 'error', reason: error.reason, message: error.message });
      },
    },
    { limits: options.limits, connectCommands: gate },
  );
  if (options.version !== undefined) parser.markConnected(options.version);
  return { parser, events };
}

/** Feeds `chunks` one by one and returns every event. */
export function parseChunks(chunks: readonly Buffer[], options: ParseOptions = {}): ParseEvent[] {
  const { parser, events } = newRecordingParser(options);
  for (const chunk of chunks) parser.feed(chunk);
  return events;
}

export function parse(input: Buffer | string, options: ParseOptions = {}): ParseEvent[] {
  return parseChunks([typeof input === 'string' ? Buffer.from(input, 'utf8') : input], options);
}

export function frame(command: string, headers: [string, string][], body: Buffer | string = ''): ParseEvent {
  return {
    kind: 'frame',
    command,
    headers,
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
  };
}

export function errorReason(events: readonly ParseEvent[]): StompErrorReason | undefined {
  const last = events[events.length - 1];
  return last?.kind === 'error' ? last.reason : undefined;
}

/** Cuts `input` at the given offsets (sorted, deduplicated, within bounds). */
export function cut(input: Buffer, offsets: readonly number[]): Buffer[] {
  const points = [...new Set(offsets)].filter((n) => n > 0 && n < input.length).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(input.subarray(start, point));
    start = point;
  }
  chunks.push(input.subarray(start));
  return chunks;
}
