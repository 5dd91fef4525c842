import fc from 'fast-check';
import { Arena } from '../arena';
import { amqpStep, cutAt, handshakeBytes, stepBytes, type AmqpStep } from '../amqp-wire';
import { AmqpPeer } from '../amqp-peer';
import type { EscapeWatch } from '../escapes';
import type { FuzzTarget } from '../target';

export interface AmqpSessionInput {
  steps: AmqpStep[];
  /** Where the byte stream is cut into chunks (a socket's reads). */
  cuts: number[];
  /** After which chunks the well-behaved client publishes. */
  controlAfter: number[];
  /** A second hostile connection running the same steps, interleaved: two sessions touching each other's state. */
  twin: boolean;
}

export const amqpSessionInput: fc.Arbitrary<AmqpSessionInput> = fc.record({
  steps: fc.array(amqpStep, { minLength: 1, maxLength: 30 }),
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
  controlAfter: fc.array(fc.nat({ max: 8 }), { minLength: 1, maxLength: 4 }),
  twin: fc.boolean(),
});

/**
 * Method sequences: a real AMQP session after a valid handshake, fed random well-typed methods, publishes with
 * random properties, raw garbage and heartbeats, cut into random chunks. After every input: nothing escaped, the
 * server's output parses, the well-behaved client lost nothing, no connection or memory outlived the input.
 */
export function amqpSessionTarget(watch: EscapeWatch): FuzzTarget<AmqpSessionInput> {
  return {
    name: 'amqp-session',
    description: 'AMQP method sequences on a real in-process session and core',
    arbitrary: amqpSessionInput,
    async run(input) {
      const arena = await Arena.open();
      try {
        const peers = [new AmqpPeer(arena.broker)];
        if (input.twin) peers.push(new AmqpPeer(arena.broker));
        const bytes = Buffer.concat([handshakeBytes(), ...input.steps.map(stepBytes)]);
        const chunks = cutAt(bytes, input.cuts);
        await arena.play(peers, chunks, input.controlAfter, watch);
      } finally {
        await arena.close();
      }
    },
  };
}
