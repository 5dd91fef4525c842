import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { lengthCrc } from '../src/record-format';

test("lengthCrc is zlib's crc32 of the length's four little-endian bytes, for every u32", () => {
  const le = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), (n) => lengthCrc(n) === crc32(le(n))),
    { numRuns: 20_000, examples: [[0], [1], [0xff], [0x100], [0xffffffff]] },
  );
});
