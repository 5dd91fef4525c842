import fc from 'fast-check';
import { WarrenError } from '@warren/core';
import { FrameReader, FrameWriter, HEARTBEAT_FRAME, PROTOCOL_HEADER, type FrameHandler } from '../src';
import { Recorder, hex, readAll, type RecordedFrame } from './helpers';

const writer = new FrameWriter(4096);
const publishFrames: Buffer[] = [];
writer.message(
  1,
  { id: 0x003c0028, ticket: 0, exchange: 'amq.direct', routingKey: 'k', mandatory: false, immediate: false },
  { contentType: 'text/plain', deliveryMode: 2 },
  Buffer.alloc(9000, 0x61),
  publishFrames,
);
/** A realistic stream: a method, a published message split over three body frames, a heartbeat. */
const STREAM = Buffer.concat([
  writer.method(0, { id: 0x000a001f, channelMax: 2047, frameMax: 4096, heartbeat: 60 }),
  ...publishFrames,
  HEARTBEAT_FRAME,
]);
const EXPECTED = readAll([STREAM]);

describe('frame reader', () => {
  it('delivers every frame of one chunk in order', () => {
    expect(EXPECTED.map((f) => f.kind)).toEqual([
      'method',
      'method',
      'header',
      'body',
      'body',
      'body',
      'heartbeat',
    ]);
  });

  it('parses identically when the stream is split at every byte boundary', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      expect(readAll([STREAM.subarray(0, i), STREAM.subarray(i)])).toEqual(EXPECTED);
    }
  });

  it('parses identically in any chunking, down to one octet per read', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 80 }), (sizes) => {
        const chunks: Buffer[] = [];
        for (let off = 0, i = 0; off < STREAM.length; i++) {
          const n = sizes[i % sizes.length] as number;
          chunks.push(STREAM.subarray(off, off + n));
          off += n;
        }
        expect(readAll(chunks)).toEqual(EXPECTED);
      }),
    );
  });

  it('hands out a frame lying wholly in a chunk as a view of that chunk, not a copy', () => {
    const views: Buffer[] = [];
    const handler = new (class extends Recorder {
      override onBody(_channel: number, payload: Buffer): void {
        views.push(payload);
      }
    })();
    const chunk = Buffer.from(STREAM);
    new FrameReader(handler, { expectProtocolHeader: false, frameMax: 4096 }).push(chunk);
    expect(views).toHaveLength(3);
    for (const v of views) expect(v.buffer).toBe(chunk.buffer);
  });

  it('checks the protocol header, accepting 0-9-1 and the 0-9 header RabbitMQ also takes', () => {
    for (const header of [PROTOCOL_HEADER, hex('414d515001010009')]) {
      const frames = readAll([header.subarray(0, 3), header.subarray(3), HEARTBEAT_FRAME], 4096, true);
      expect(frames).toEqual([
        { kind: 'protocol', accepted: true, header: header.toString('hex') },
        { kind: 'heartbeat' },
      ]);
    }
  });

  it('reports a mismatched protocol header once and ignores what follows', () => {
    const amqp10 = hex('414d515000010000');
    expect(readAll([amqp10, HEARTBEAT_FRAME], 4096, true)).toEqual([
      { kind: 'protocol', accepted: false, header: amqp10.toString('hex') },
    ]);
    // Not AMQP at all: refused on the first octet, without waiting for eight.
    expect(readAll([Buffer.from('GET')], 4096, true)).toEqual([
      { kind: 'protocol', accepted: false, header: '474554' },
    ]);
  });
});

describe('frame reader errors', () => {
  const expectFrameError = (chunks: Buffer[], frameMax = 4096, pattern?: RegExp): void => {
    const reader = new FrameReader(new Recorder(), { expectProtocolHeader: false, frameMax });
    let error: unknown;
    try {
      for (const c of chunks) reader.push(c);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WarrenError);
    expect(error).toMatchObject({ code: 'FRAME_ERROR', replyCode: 501 });
    if (pattern) expect((error as Error).message).toMatch(pattern);
  };

  it('reports a bad frame-end octet as FRAME_ERROR', () => {
    expectFrameError([hex('0800000000000000')], 4096, /frame end octet <00> is not <ce>/);
  });

  it('reports a bad frame-end octet in a frame split across reads', () => {
    expectFrameError([hex('01000100'), hex('00000400'), hex('0a0029ff')]);
  });

  it('reports a frame larger than frame-max as soon as its header arrives', () => {
    expectFrameError([hex('03000100001000')], 4096, /exceeds frame-max 4096/);
    expectFrameError([hex('0300010000'), hex('0ff9')], 4096);
  });

  it('accepts a frame of exactly frame-max octets', () => {
    const body = Buffer.concat([hex('03000100000ff8'), Buffer.alloc(4088), hex('ce')]);
    expect(readAll([body], 4096)).toHaveLength(1);
  });

  it('reports an unknown frame type as FRAME_ERROR, as RabbitMQ does', () => {
    expectFrameError([hex('0400000000000ce')], 4096, /unknown frame type 4/);
  });

  it('reports a heartbeat on a channel other than 0, or with a payload, as FRAME_ERROR', () => {
    expectFrameError([hex('080001 00000000 ce')]);
    expectFrameError([hex('080000 00000001 00 ce')]);
  });

  it('ignores input after a frame error: framing cannot be recovered', () => {
    const rec = new Recorder();
    const reader = new FrameReader(rec, { expectProtocolHeader: false });
    expect(() => reader.push(hex('0800000000000000'))).toThrow(WarrenError);
    reader.push(HEARTBEAT_FRAME);
    expect(rec.frames).toEqual([]);
  });

  it('never throws anything but a WarrenError on random bytes, and always returns', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
        fc.boolean(),
        (chunks, header) => {
          const frames: RecordedFrame[] = [];
          const handler: FrameHandler = Object.assign(new Recorder(), { frames });
          const reader = new FrameReader(handler, { expectProtocolHeader: header });
          try {
            for (const c of chunks) reader.push(Buffer.from(c));
          } catch (e) {
            expect(e).toBeInstanceOf(WarrenError);
          }
        },
      ),
    );
  });

  it('never throws anything but a WarrenError on a valid stream with random octets flipped', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(STREAM.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        (flips) => {
          const bytes = Buffer.from(STREAM);
          for (const [at, v] of flips) bytes[at] = v;
          try {
            readAll([bytes], 4096);
          } catch (e) {
            expect(e).toBeInstanceOf(WarrenError);
          }
        },
      ),
    );
  });
});

describe('frame-max negotiation', () => {
  it('refuses a frame-max below 4096 with NOT_ALLOWED, as RabbitMQ does on tune-ok', () => {
    const reader = new FrameReader(new Recorder());
    expect(() => reader.setFrameMax(100)).toThrow(
      expect.objectContaining({ code: 'NOT_ALLOWED', replyCode: 530 }),
    );
    expect(() => new FrameWriter(100)).toThrow(expect.objectContaining({ code: 'NOT_ALLOWED' }));
    expect(() => reader.setFrameMax(0)).not.toThrow();
  });
});
