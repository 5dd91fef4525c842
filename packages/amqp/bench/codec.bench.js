'use strict';
/**
 * Codec micro-benchmark: basic.publish + content header + small body, parsed and encoded.
 * Runs over the built dist (plain node, no transpiler in the loop):
 *
 *   npx tsc -b && node packages/amqp/bench/codec.bench.js
 *
 * "parsed" = FrameReader.push over a chunk of many publishes + decodeMethodFrame + decodeContentHeader +
 * readRoutingProperties per message, i.e. what a channel does per publish before routing.
 * "encoded" = FrameWriter.deliver (basic.deliver + header + body as a chunk list), what a consumer gets.
 */
const {
  FrameReader,
  FrameWriter,
  BASIC_PUBLISH,
  decodeMethodFrame,
  decodeContentHeader,
  encodeProperties,
  readRoutingProperties,
} = require('../dist');

const BODY = Buffer.alloc(64, 0x61);
const PROPS = {
  contentType: 'application/json',
  deliveryMode: 2,
  priority: 1,
  headers: { 'x-trace': 'abc' },
};
const PER_CHUNK = 256;
const ROUNDS = 2000;

function buildChunk() {
  const writer = new FrameWriter(131072);
  const out = [];
  const m = {
    id: BASIC_PUBLISH,
    ticket: 0,
    exchange: 'amq.direct',
    routingKey: 'orders',
    mandatory: false,
    immediate: false,
  };
  for (let i = 0; i < PER_CHUNK; i++) writer.message(1, m, PROPS, BODY, out);
  return Buffer.concat(out);
}

function benchParse(chunk) {
  const routing = { deliveryMode: undefined, priority: undefined, expiration: undefined };
  let messages = 0;
  let bytes = 0;
  const handler = {
    onProtocolHeader() {},
    onMethod(_channel, payload) {
      decodeMethodFrame(payload);
    },
    onContentHeader(_channel, payload) {
      readRoutingProperties(decodeContentHeader(payload).properties, routing);
    },
    onBody(_channel, payload) {
      bytes += payload.length;
      messages++;
    },
    onHeartbeat() {},
  };
  const reader = new FrameReader(handler, { expectProtocolHeader: false, frameMax: 131072 });
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < ROUNDS; r++) reader.push(chunk);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { messages, frames: messages * 3, seconds: s, bytes };
}

function benchEncode(props) {
  const writer = new FrameWriter(131072);
  const out = [];
  let chunks = 0;
  const n = ROUNDS * PER_CHUNK;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    out.length = 0;
    writer.deliver(1, 'amq.ctag-1', i + 1, false, 'amq.direct', 'orders', props, BODY, out);
    chunks += out.length;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { messages: n, frames: n * 3, seconds: s, chunks };
}

const chunk = buildChunk();
benchParse(chunk); // warm-up
benchEncode(PROPS);
const p = benchParse(chunk);
const e = benchEncode(PROPS);
// AMQP-to-AMQP forwarding re-sends the raw property bytes it received.
const raw = benchEncode(encodeProperties(PROPS));
const fmt = (x) => Math.round(x).toLocaleString('en-US');
console.log(
  `node ${process.version}, ${PER_CHUNK * ROUNDS} messages of ${BODY.length} B body, 3 frames each`,
);
console.log(`parse : ${fmt(p.frames / p.seconds)} frames/s  (${fmt(p.messages / p.seconds)} publishes/s)`);
const line = (r) =>
  `${fmt(r.frames / r.seconds)} frames/s  (${fmt(r.messages / r.seconds)} deliveries/s, ${r.chunks / r.messages} chunk/msg)`;
console.log(`encode, decoded props: ${line(e)}`);
console.log(`encode, raw props    : ${line(raw)}`);
