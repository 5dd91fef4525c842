'use strict';
// STOMP codec micro-benchmark: frames/s parsed and serialized for a typical SEND / MESSAGE with a 100-byte body.
// Runs against the build: `npx tsc -b` (or `npx tsc -p packages/stomp`), then
//   node packages/stomp/bench/parser.bench.js [seconds-per-case]
const os = require('node:os');
const { StompParser, serializeFrame, encodeHeaderBlock, serializeMessage } = require('../dist/index.js');

const SECONDS = Number(process.argv[2] ?? 1);
const BODY = Buffer.alloc(100, 'x');

function sendFrame(counted) {
  const head =
    'SEND\ndestination:/queue/bench\ncontent-type:text/plain\npersistent:false\n' +
    (counted ? `content-length:${BODY.length}\n` : '') +
    '\n';
  return Buffer.concat([Buffer.from(head), BODY, Buffer.from([0])]);
}

/** Runs `fn` (which handles `unit` frames per call) for SECONDS after a warm-up; returns frames/s. */
function measure(unit, fn) {
  const warmUntil = Date.now() + 300;
  while (Date.now() < warmUntil) fn();
  let frames = 0;
  const start = process.hrtime.bigint();
  const stop = start + BigInt(Math.round(SECONDS * 1e9));
  let now = start;
  while (now < stop) {
    for (let i = 0; i < 64; i++) fn();
    frames += 64 * unit;
    now = process.hrtime.bigint();
  }
  return frames / (Number(now - start) / 1e9);
}

function parserCounting() {
  const state = { frames: 0 };
  const parser = new StompParser(
    {
      onFrame: () => state.frames++,
      onHeartbeat() {},
      onError: (error) => {
        throw error;
      },
    },
    { limits: { stompMaxPreConnectBytes: Infinity } },
  );
  parser.markConnected('1.2');
  return { parser, state };
}

/** TCP-like: one 64 KiB read holding many back-to-back frames. */
function parseBatched(counted) {
  const frame = sendFrame(counted);
  const perChunk = Math.floor(65536 / frame.length);
  const chunk = Buffer.concat(Array.from({ length: perChunk }, () => frame));
  const { parser } = parserCounting();
  return measure(perChunk, () => parser.feed(chunk));
}

/** WebSocket-like: one frame per message. */
function parseOneByOne(counted) {
  const frame = sendFrame(counted);
  const { parser } = parserCounting();
  return measure(1, () => parser.feed(frame));
}

const messageHeaders = [
  ['destination', '/queue/bench'],
  ['content-type', 'text/plain'],
  ['persistent', 'false'],
  ['redelivered', 'false'],
];

function serializeWhole() {
  let id = 0;
  return measure(1, () =>
    serializeFrame(
      'MESSAGE',
      [
        ['subscription', 'sub-0'],
        ['message-id', `T_sub-0@@session-1@@${++id}`],
        ['ack', String(id)],
        ...messageHeaders,
      ],
      BODY,
      '1.2',
    ),
  );
}

function serializeShared() {
  let id = 0;
  const shared = encodeHeaderBlock(messageHeaders, BODY.length, '1.2');
  return measure(1, () =>
    serializeMessage(
      [
        ['subscription', 'sub-0'],
        ['message-id', `T_sub-0@@session-1@@${++id}`],
        ['ack', String(id)],
      ],
      shared,
      BODY,
      '1.2',
    ),
  );
}

const cases = [
  ['parse SEND, content-length, 64 KiB chunks', () => parseBatched(true)],
  ['parse SEND, NUL-terminated, 64 KiB chunks', () => parseBatched(false)],
  ['parse SEND, content-length, one frame per feed', () => parseOneByOne(true)],
  ['serialize MESSAGE, serializeFrame', serializeWhole],
  ['serialize MESSAGE, shared header block', serializeShared],
];

console.log(
  `node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${new Date().toISOString().slice(0, 10)}`,
);
for (const [name, run] of cases) {
  console.log(`${name.padEnd(50)} ${Math.round(run()).toLocaleString('en-US').padStart(12)} frames/s`);
}
