import fc from 'fast-check';
import { Arena } from '../arena';
import { cutAt, handshakeBytes, stepBytes, amqpStep } from '../amqp-wire';
import { AmqpPeer } from '../amqp-peer';
import type { EscapeWatch } from '../escapes';
import type { FuzzTarget } from '../target';

export interface AmqpFramesInput {
  /** A valid stream (handshake and steps) that the mutations then damage. */
  stream: Buffer;
  /** [offset, byte] overwrites, insertions and deletions, at offsets taken modulo the length. */
  flips: [number, number][];
  inserts: [number, Buffer][];
  deletes: [number, number][];
  cuts: number[];
}

export const amqpFramesInput: fc.Arbitrary<AmqpFramesInput> = fc.record({
  stream: fc
    .tuple(fc.boolean(), fc.array(amqpStep, { maxLength: 8 }))
    .map(([handshake, steps]) =>
      Buffer.concat([handshake ? handshakeBytes() : Buffer.alloc(0), ...steps.map(stepBytes)]),
    ),
  flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
  inserts: fc.array(
    fc.tuple(
      fc.nat(),
      fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => Buffer.from(b)),
    ),
    {
      maxLength: 3,
    },
  ),
  deletes: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 16 })), { maxLength: 3 }),
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
});

/** Applies the mutations to a copy of the stream. */
export function mutate(input: AmqpFramesInput): Buffer {
  let b = Buffer.from(input.stream);
  for (const [at, len] of input.deletes) {
    if (b.length === 0) break;
    const p = at % b.length;
    b = Buffer.concat([b.subarray(0, p), b.subarray(p + len)]);
  }
  for (const [at, bytes] of input.inserts) {
    const p = b.length === 0 ? 0 : at % (b.length + 1);
    b = Buffer.concat([b.subarray(0, p), bytes, b.subarray(p)]);
  }
  for (const [at, v] of input.flips) if (b.length > 0) b[at % b.length] = v;
  return b;
}

/**
 * The frame reader and everything behind it on damaged byte streams: valid AMQP with bytes overwritten,
 * inserted and deleted, cut into random reads. The server must answer with well-formed AMQP (a close with a
 * reply code, or its protocol header), never throw out of its input handler, and leave nothing behind.
 */
export function amqpFramesTarget(watch: EscapeWatch): FuzzTarget<AmqpFramesInput> {
  return {
    name: 'amqp-frames',
    description: 'damaged AMQP byte streams into the frame reader and a real session',
    arbitrary: amqpFramesInput,
    async run(input) {
      const arena = await Arena.open();
      try {
        const peer = new AmqpPeer(arena.broker);
        await arena.play([peer], cutAt(mutate(input), input.cuts), [], watch);
      } finally {
        await arena.close();
      }
    },
  };
}
