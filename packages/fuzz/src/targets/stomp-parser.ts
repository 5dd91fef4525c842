import fc from 'fast-check';
import { StompParser, type StompFrame } from '@warren/stomp';
import { cutAt } from '../amqp-wire';
import { mutate } from './amqp-frames';
import { connectBytes, stompFrame, stompFrameBytes } from '../stomp-wire';
import { invariant, type FuzzTarget } from '../target';

export interface StompParserInput {
  bytes: Buffer;
  cuts: number[];
  connected: boolean;
}

export const stompParserInput: fc.Arbitrary<StompParserInput> = fc.record({
  bytes: fc
    .tuple(
      fc.boolean(),
      fc.array(stompFrame, { maxLength: 6 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 5 }),
      fc.array(
        fc.tuple(
          fc.nat(),
          fc.uint8Array({ minLength: 1, maxLength: 10 }).map((b) => Buffer.from(b)),
        ),
        { maxLength: 3 },
      ),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 12 })), { maxLength: 3 }),
    )
    .map(([connect, frames, flips, inserts, deletes]) =>
      mutate({
        stream: Buffer.concat([
          connect ? connectBytes('1.2') : Buffer.alloc(0),
          ...frames.map((f) => stompFrameBytes(f, '1.2')),
        ]),
        flips,
        inserts,
        deletes,
        cuts: [],
      }),
    ),
  cuts: fc.array(fc.nat(), { maxLength: 10 }),
  connected: fc.boolean(),
});

type Event = { frame: StompFrame } | { heartbeat: true } | { error: string };

function run(bytes: Buffer[], connected: boolean): Event[] {
  const events: Event[] = [];
  const parser: StompParser = new StompParser(
    {
      onFrame: (frame) => events.push({ frame }),
      onHeartbeat: () => events.push({ heartbeat: true }),
      onError: (e) => events.push({ error: e.message }),
    },
    {
      limits: {
        stompMaxFrameSize: 4096,
        stompMaxHeaders: 16,
        stompMaxHeaderLength: 512,
        stompMaxPreConnectBytes: 2048,
      },
    },
  );
  if (connected) parser.markConnected('1.2');
  for (const b of bytes) parser.feed(b);
  return events;
}

function same(a: Event[], b: Event[]): boolean {
  return (
    JSON.stringify(a, (_k, v: unknown) => (v instanceof Map ? [...v] : v)) ===
    JSON.stringify(b, (_k, v: unknown) => (v instanceof Map ? [...v] : v))
  );
}

/**
 * The STOMP parser on damaged frames under tight limits: it never throws (every refusal is one onError), and
 * however the bytes are cut into reads it reports exactly the same frames, heart-beats and error.
 */
export const stompParserTarget: FuzzTarget<StompParserInput> = {
  name: 'stomp-parser',
  description: 'the STOMP parser on damaged frames, whole vs cut into random reads',
  arbitrary: stompParserInput,
  run({ bytes, cuts, connected }) {
    const whole = run([bytes], connected);
    const pieces = run(cutAt(bytes, cuts), connected);
    invariant(
      same(whole, pieces),
      () => `cutting the input changed what was parsed: ${bytes.toString('hex')}`,
    );
    invariant(whole.filter((e) => 'error' in e).length <= 1, () => 'more than one error reported');
  },
};
