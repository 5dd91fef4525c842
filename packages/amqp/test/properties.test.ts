import fc from 'fast-check';
import { WarrenError, type MessageProperties } from '@warren/core';
import {
  BASIC_PROPERTIES,
  contentHeaderSize,
  decodeContentHeader,
  decodeProperties,
  encodeProperties,
  readRoutingProperties,
  writeContentHeader,
  type RoutingProperties,
} from '../src';
import { messageProperties } from './arbitraries';
import { hex, payloadOf } from './helpers';

// A content header frame on channel 1 for a 5-octet body, all fourteen properties set (flags fffc).
const HEADER_FRAME = hex(`
  02000100000095003c00000000000000000005fffc106170706c69636174696f6e2f6a736f6e04677a69700000001707
  782d74726163655300000003616263016e49fffffff9020906636f72722d3115616d712e7261626269746d712e726570
  6c792d746f053630303030056d73672d31000000006553f1000d6f726465722e63726561746564056775657374047368
  6f7009636c75737465722d61ce`);

const ALL_PROPERTIES: MessageProperties = {
  contentType: 'application/json',
  contentEncoding: 'gzip',
  headers: { 'x-trace': 'abc', n: -7 },
  deliveryMode: 2,
  priority: 9,
  correlationId: 'corr-1',
  replyTo: 'amq.rabbitmq.reply-to',
  expiration: '60000',
  messageId: 'msg-1',
  timestamp: 1700000000,
  type: 'order.created',
  userId: 'guest',
  appId: 'shop',
  clusterId: 'cluster-a',
};

describe('content header', () => {
  it('decodes class, body size and all fourteen properties', () => {
    const header = decodeContentHeader(payloadOf(HEADER_FRAME));
    expect(header.classId).toBe(60);
    expect(header.bodySize).toBe(5);
    expect(decodeProperties(header.properties)).toEqual(ALL_PROPERTIES);
  });

  it('encodes all fourteen properties to exactly those bytes', () => {
    const buf = Buffer.alloc(contentHeaderSize(ALL_PROPERTIES));
    writeContentHeader(buf, 0, 60, 5, ALL_PROPERTIES);
    expect(buf.toString('hex')).toBe(payloadOf(HEADER_FRAME).toString('hex'));
  });

  it('forwards raw property bytes untouched', () => {
    const raw = decodeContentHeader(payloadOf(HEADER_FRAME)).properties;
    const buf = Buffer.alloc(contentHeaderSize(raw));
    writeContentHeader(buf, 0, 60, 5, raw);
    expect(buf).toEqual(payloadOf(HEADER_FRAME));
  });

  it('sets property flags in spec order, bit 15 for the first property down to bit 2', () => {
    const sample: Record<string, unknown> = { ...ALL_PROPERTIES };
    BASIC_PROPERTIES.forEach((prop, i) => {
      const key = prop.name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      const flags = encodeProperties({ [key]: sample[key] } as MessageProperties).readUInt16BE(0);
      expect(flags).toBe(1 << (15 - i));
    });
  });

  it('leaves absent properties absent', () => {
    expect(decodeProperties(hex('0000'))).toEqual({});
    expect(Object.keys(decodeProperties(encodeProperties({ deliveryMode: 1 })))).toEqual(['deliveryMode']);
  });

  it('round-trips any set of properties', () => {
    fc.assert(
      fc.property(messageProperties, (p) => expect(decodeProperties(encodeProperties(p))).toEqual(p)),
    );
  });
});

describe('routing properties fast path', () => {
  const out: RoutingProperties = { deliveryMode: undefined, priority: undefined, expiration: undefined };

  it('reads delivery mode, priority and expiration past a headers table', () => {
    const raw = decodeContentHeader(payloadOf(HEADER_FRAME)).properties;
    expect(readRoutingProperties(raw, out)).toEqual({ deliveryMode: 2, priority: 9, expiration: '60000' });
  });

  it('resets what the previous message set', () => {
    readRoutingProperties(encodeProperties({ deliveryMode: 2, priority: 1, expiration: '5' }), out);
    expect(readRoutingProperties(encodeProperties({}), out)).toEqual({
      deliveryMode: undefined,
      priority: undefined,
      expiration: undefined,
    });
  });

  it('agrees with the full decode on any properties', () => {
    fc.assert(
      fc.property(messageProperties, (p) => {
        const { deliveryMode, priority, expiration } = decodeProperties(encodeProperties(p));
        expect(readRoutingProperties(encodeProperties(p), out)).toEqual({
          deliveryMode,
          priority,
          expiration,
        });
      }),
    );
  });

  it('never looks inside the headers table, so a malformed one does not slow or fail it', () => {
    // headers flag only, then a 4-octet length covering garbage that is not a valid table.
    expect(readRoutingProperties(hex('2000 00000002 ffff'), out).deliveryMode).toBeUndefined();
    expect(() => decodeProperties(hex('2000 00000002 ffff'))).toThrow(WarrenError);
  });
});

describe('content header errors', () => {
  const raw = decodeContentHeader(payloadOf(HEADER_FRAME)).properties;

  it('reports properties cut at any octet as FRAME_ERROR', () => {
    for (let n = 0; n < raw.length; n++) {
      expect(() => decodeProperties(raw.subarray(0, n))).toThrow(
        expect.objectContaining({ code: 'FRAME_ERROR' }),
      );
    }
  });

  it('reports a header frame too short for its fixed fields as FRAME_ERROR', () => {
    expect(() => decodeContentHeader(hex('003c0000000000000000'))).toThrow(
      expect.objectContaining({ code: 'FRAME_ERROR' }),
    );
  });

  it('reports a set continuation bit as FRAME_ERROR: basic has one flags word', () => {
    expect(() => decodeProperties(hex('0001'))).toThrow(expect.objectContaining({ code: 'FRAME_ERROR' }));
    expect(() =>
      readRoutingProperties(hex('0001'), { deliveryMode: 0, priority: 0, expiration: '' }),
    ).toThrow(WarrenError);
  });
});
