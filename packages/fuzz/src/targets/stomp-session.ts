import fc from 'fast-check';
import { Arena } from '../arena';
import { cutAt } from '../amqp-wire';
import type { EscapeWatch } from '../escapes';
import { StompPeer } from '../stomp-peer';
import { connectBytes, stompFrame, stompFrameBytes, type StompFrameModel } from '../stomp-wire';
import type { FuzzTarget } from '../target';

export interface StompSessionInput {
  version: '1.0' | '1.1' | '1.2';
  frames: StompFrameModel[];
  /** Raw bytes between frames: heart-beat EOLs, stray NULs, garbage. */
  between: (Buffer | null)[];
  cuts: number[];
  controlAfter: number[];
  twin: boolean;
}

export const stompSessionInput: fc.Arbitrary<StompSessionInput> = fc.record({
  version: fc.constantFrom('1.0' as const, '1.1' as const, '1.2' as const),
  frames: fc.array(stompFrame, { minLength: 1, maxLength: 25 }),
  between: fc.array(
    fc.option(
      fc.oneof(
        fc.constantFrom(Buffer.from('\n'), Buffer.from('\r\n'), Buffer.from([0])),
        fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
      ),
      { nil: null, freq: 4 },
    ),
    { maxLength: 25 },
  ),
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
  controlAfter: fc.array(fc.nat({ max: 8 }), { minLength: 1, maxLength: 4 }),
  twin: fc.boolean(),
});

/**
 * Frame sequences on a real STOMP session after a valid CONNECT: every command with headers and destinations
 * from small sets, garbage between frames, random chunking. Invariants as for AMQP sessions, plus: every ERROR
 * the server writes has a `message` header.
 */
export function stompSessionTarget(watch: EscapeWatch): FuzzTarget<StompSessionInput> {
  return {
    name: 'stomp-session',
    description: 'STOMP frame sequences on a real in-process session and core',
    arbitrary: stompSessionInput,
    async run(input) {
      const arena = await Arena.open();
      try {
        const peers = [new StompPeer(arena.broker)];
        if (input.twin) peers.push(new StompPeer(arena.broker));
        const parts: Buffer[] = [connectBytes(input.version)];
        input.frames.forEach((f, i) => {
          parts.push(stompFrameBytes(f, input.version));
          const extra = input.between[i];
          if (extra !== undefined && extra !== null) parts.push(extra);
        });
        const chunks = cutAt(Buffer.concat(parts), input.cuts);
        await arena.play(peers, chunks, input.controlAfter, watch);
      } finally {
        await arena.close();
      }
    },
  };
}
