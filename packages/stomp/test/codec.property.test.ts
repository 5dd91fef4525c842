import fc from 'fast-check';
import {
  ClientCommand,
  ServerCommand,
  encodeHeaderBlock,
  escapeHeader,
  isEscapeExempt,
  serializeFrame,
  serializeMessage,
  type StompVersion,
} from '../src';
import { cut, newRecordingParser, parse, parseChunks, type ParseEvent } from './helpers';

const VERSIONS: StompVersion[] = ['1.0', '1.1', '1.2'];
const COMMANDS = [...Object.values(ClientCommand), ...Object.values(ServerCommand)];

interface FrameModel {
  command: string;
  headers: [string, string][];
  body: Buffer;
  /** Whether the wire form carries content-length (else the body is NULL-free and scanned). */
  counted: boolean;
  eol: '\n' | '\r\n';
}

/**
 * Header text that survives the wire in `version` for `command`: where nothing is escaped (1.0, CONNECT...)
 * names cannot hold ':' and nothing can hold CR or LF; 1.1 has no escape for CR, so a trailing one would read
 * as part of the EOL.
 */
function headerText(version: StompVersion, command: string, isName: boolean): fc.Arbitrary<string> {
  const raw = version === '1.0' || isEscapeExempt(command);
  const forbidden = raw ? (isName ? /[\r\n:]/g : /[\r\n]/g) : version === '1.1' ? /\r/g : null;
  return fc
    .string({ unit: 'binary', minLength: isName ? 1 : 0, maxLength: 12 })
    .map((text) => (forbidden ? text.replace(forbidden, '_') : text))
    .filter((text) => text !== 'content-length');
}

function frameModel(version: StompVersion): fc.Arbitrary<FrameModel> {
  return fc.constantFrom(...COMMANDS).chain((command) =>
    fc.record({
      command: fc.constant(command),
      headers: fc.array(fc.tuple(headerText(version, command, true), headerText(version, command, false)), {
        maxLength: 5,
      }),
      counted: fc.boolean(),
      body: fc.uint8Array({ maxLength: 48 }).map((bytes) => Buffer.from(bytes)),
      eol: fc.constantFrom<'\n' | '\r\n'>('\n', '\r\n'),
    }),
  );
}

function toWire(model: FrameModel, version: StompVersion): Buffer {
  const raw = isEscapeExempt(model.command);
  const body = model.counted ? model.body : Buffer.from(model.body.map((b) => b || 1));
  let head = model.command + model.eol;
  for (const [name, value] of model.headers) {
    head += `${escapeHeader(name, version, raw)}:${escapeHeader(value, version, raw)}${model.eol}`;
  }
  if (model.counted) head += `content-length:${body.length}${model.eol}`;
  return Buffer.concat([Buffer.from(head + model.eol, 'utf8'), body, Buffer.from([0])]);
}

function firstWins(headers: readonly [string, string][]): [string, string][] {
  const kept = new Map<string, string>();
  for (const [name, value] of headers) if (!kept.has(name)) kept.set(name, value);
  return [...kept];
}

function expectedFrame(model: FrameModel): ParseEvent {
  const headers = firstWins(model.headers);
  if (model.counted) headers.push(['content-length', String(model.body.length)]);
  const body = model.counted ? model.body : Buffer.from(model.body.map((b) => b || 1));
  return { kind: 'frame', command: model.command, headers, body };
}

function fingerprint(events: readonly ParseEvent[]): string {
  return JSON.stringify(events); // Buffers serialize through their toJSON
}

/** Frames with heart-beat EOLs between them, and the events a parser must report for the whole stream. */
function stream(version: StompVersion) {
  const beats = fc.array(fc.constantFrom('\n', '\r\n'), { maxLength: 3 });
  return fc.array(fc.tuple(beats, frameModel(version)), { minLength: 1, maxLength: 3 }).chain((items) =>
    beats.map((trailing) => {
      const parts: Buffer[] = [];
      const events: ParseEvent[] = [];
      for (const [before, model] of items) {
        for (const beat of before) {
          parts.push(Buffer.from(beat));
          events.push({ kind: 'heartbeat' });
        }
        parts.push(toWire(model, version));
        events.push(expectedFrame(model));
      }
      for (const beat of trailing) {
        parts.push(Buffer.from(beat));
        events.push({ kind: 'heartbeat' });
      }
      return { wire: Buffer.concat(parts), events };
    }),
  );
}

describe.each(VERSIONS)('STOMP %s', (version) => {
  test('valid frames split at every byte boundary parse identically', () => {
    fc.assert(
      fc.property(stream(version), ({ wire, events }) => {
        expect(parse(wire, { version })).toEqual(events);
        const want = fingerprint(events);
        for (let i = 1; i < wire.length; i++) {
          const got = parseChunks(cut(wire, [i]), { version });
          // Compare cheaply; fall back to toEqual only for its diff.
          if (fingerprint(got) !== want) expect(got).toEqual(events);
        }
      }),
      { numRuns: 60 },
    );
  });

  test('valid frames in random chunkings, down to one byte at a time, parse identically', () => {
    fc.assert(
      fc.property(stream(version), fc.array(fc.nat(), { maxLength: 30 }), ({ wire, events }, points) => {
        expect(
          parseChunks(
            cut(
              wire,
              points.map((p) => p % wire.length),
            ),
            { version },
          ),
        ).toEqual(events);
        const bytes = Array.from({ length: wire.length }, (_, i) => i);
        expect(parseChunks(cut(wire, bytes), { version })).toEqual(events);
      }),
      { numRuns: 200 },
    );
  });

  test('serialized frames parse back to the same command, headers and body', () => {
    fc.assert(
      fc.property(frameModel(version), (model) => {
        const chunks = serializeFrame(model.command, model.headers, model.body, version);
        expect(parse(Buffer.concat(chunks), { version })).toEqual([
          expectedFrame({ ...model, counted: model.body.length > 0 }),
        ]);
      }),
      { numRuns: 300 },
    );
  });

  test('MESSAGE frames from the fast path parse back to subscriber headers first, then the message headers', () => {
    const message = frameModel(version).map((model) => ({ ...model, command: 'MESSAGE' }));
    const perSubscriber = fc.array(
      fc.tuple(headerText(version, 'MESSAGE', true), headerText(version, 'MESSAGE', false)),
      {
        maxLength: 3,
      },
    );
    fc.assert(
      fc.property(message, perSubscriber, (model, own) => {
        const shared = encodeHeaderBlock(model.headers, model.body.length, version);
        const chunks = serializeMessage(own, shared, model.body, version);
        const combined = { ...model, headers: [...own, ...model.headers], counted: model.body.length > 0 };
        expect(parse(Buffer.concat(chunks), { version })).toEqual([expectedFrame(combined)]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('a server parser, which takes only CONNECT or STOMP first', () => {
  const connectCommands = ['CONNECT', 'STOMP'];
  const noise = fc.array(fc.constantFrom('\n', '\r\n', '\0'), { maxLength: 3 });

  test('a CONNECT then frames, split at every byte boundary, parse identically', () => {
    const opening = fc.record({
      command: fc.constantFrom('CONNECT', 'STOMP'),
      headers: fc.array(fc.tuple(headerText('1.2', 'CONNECT', true), headerText('1.2', 'CONNECT', false)), {
        maxLength: 4,
      }),
      counted: fc.boolean(),
      body: fc.constant(Buffer.alloc(0)),
      eol: fc.constantFrom<'\n' | '\r\n'>('\n', '\r\n'),
    });
    fc.assert(
      fc.property(noise, opening, stream('1.2'), (before, connect, rest) => {
        const wire = Buffer.concat([Buffer.from(before.join('')), toWire(connect, '1.2'), rest.wire]);
        const events: ParseEvent[] = [
          ...before.filter((n) => n !== '\0').map((): ParseEvent => ({ kind: 'heartbeat' })),
          expectedFrame(connect),
          ...rest.events,
        ];
        const options = { connectCommands, connectAs: '1.2' } as const;
        expect(parse(wire, options)).toEqual(events);
        const want = fingerprint(events);
        for (let i = 1; i < wire.length; i++) {
          const got = parseChunks(cut(wire, [i]), options);
          if (fingerprint(got) !== want) expect(got).toEqual(events);
        }
      }),
      { numRuns: 100 },
    );
  });

  test('random bytes before CONNECT give at most one error, and one at once unless they could begin CONNECT', () => {
    const octet = fc.oneof(fc.constantFrom(0x00, 0x0a, 0x0d, 0x43, 0x53), fc.nat({ max: 255 }));
    const bytes = fc.array(octet, { minLength: 1, maxLength: 200 }).map((list) => Buffer.from(list));
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(), { maxLength: 10 }), (input, points) => {
        const { parser, events } = newRecordingParser({ connectCommands });
        const chunks = cut(
          input,
          points.map((p) => p % input.length),
        );
        for (const chunk of chunks) parser.feed(chunk);
        const errors = events.filter((e) => e.kind === 'error');
        expect(errors.length).toBeLessThanOrEqual(1);
        if (errors.length === 1) expect(events[events.length - 1]?.kind).toBe('error');
        const first = input.findIndex((o) => o !== 0x00 && o !== 0x0a && o !== 0x0d);
        if (first >= 0 && input[first] !== 0x43 && input[first] !== 0x53) {
          expect(errors).toEqual([{ kind: 'error', reason: 'expected-connect', message: 'Illegal command' }]);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

test('a frame is refused exactly when it breaks the frame size, header count, header line or command limit', () => {
  // Each limit lands within a few units of what the frame needs, so off-by-one mistakes show.
  const near = fc.integer({ min: -2, max: 2 });
  fc.assert(
    fc.property(
      frameModel('1.2'),
      near,
      near,
      near,
      near,
      (model, frameDelta, countDelta, lineDelta, cmdDelta) => {
        const wire = toWire(model, '1.2');
        const blankLine = wire.indexOf(model.eol + model.eol);
        const [command = '', ...headerLines] = wire
          .subarray(0, blankLine)
          .toString('latin1')
          .split(model.eol);
        const headerCount = headerLines.length;
        const longestLine = Math.max(0, ...headerLines.map((line) => line.length));
        const limits = {
          stompMaxFrameSize: Math.max(0, wire.length + frameDelta),
          stompMaxHeaders: Math.max(0, headerCount + countDelta),
          stompMaxHeaderLength: Math.max(0, longestLine + lineDelta),
          stompMaxCommandLength: Math.max(0, command.length + cmdDelta),
        };
        const broken =
          wire.length > limits.stompMaxFrameSize ||
          headerCount > limits.stompMaxHeaders ||
          longestLine > limits.stompMaxHeaderLength ||
          command.length > limits.stompMaxCommandLength;
        const events = parse(wire, { version: '1.2', limits });
        expect(events).toHaveLength(1);
        expect(events[0]?.kind).toBe(broken ? 'error' : 'frame');
      },
    ),
    { numRuns: 1000 },
  );
});

test('random bytes never throw, never hang, and report at most one error, last', () => {
  // Biased towards the octets the grammar cares about, so the parser gets deep into frames.
  const octet = fc.oneof(
    fc.constantFrom(0x00, 0x0a, 0x0d, 0x3a, 0x5c, 0x63, 0x6e, 0x30, 0x35),
    fc.nat({ max: 255 }),
  );
  const bytes = fc.array(octet, { maxLength: 300 }).map((list) => Buffer.from(list));
  const prefix = fc.constantFrom('', 'SEND\n', 'SEND\ncontent-length:', 'MESSAGE\nk:v\\', 'CONNECT\n');
  fc.assert(
    fc.property(
      prefix,
      bytes,
      fc.array(fc.nat(), { maxLength: 10 }),
      fc.constantFrom<StompVersion | undefined>(undefined, ...VERSIONS),
      (start, random, points, version) => {
        const input = Buffer.concat([Buffer.from(start), random]);
        const limits = {
          stompMaxFrameSize: 200,
          stompMaxHeaders: 4,
          stompMaxHeaderLength: 40,
          stompMaxPreConnectBytes: 250,
        };
        const { parser, events } = newRecordingParser({ version, limits });
        for (const chunk of cut(
          input,
          points.map((p) => p % (input.length || 1)),
        ))
          parser.feed(chunk);
        const errors = events.filter((e) => e.kind === 'error');
        expect(errors.length).toBeLessThanOrEqual(1);
        if (errors.length === 1) expect(events[events.length - 1]?.kind).toBe('error');
      },
    ),
    { numRuns: 2000 },
  );
});
