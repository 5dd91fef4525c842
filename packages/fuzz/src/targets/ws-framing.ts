import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import fc from 'fast-check';
import { Broker } from '@warren/core';
import { listenStompWs, type StompWsListener } from '@warren/stomp-ws';
import WebSocket from 'ws';
import { cutAt } from '../amqp-wire';
import { settle, type EscapeWatch } from '../escapes';
import { connectBytes, stompFrame, stompFrameBytes } from '../stomp-wire';
import { invariant, type FuzzTarget } from '../target';

export interface WsFrameModel {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  /** How the length is written: the honest shortest form, a longer form, or a lie. */
  length: 'honest' | 'long16' | 'long64' | 'lie';
  lie: number;
  payload: Buffer;
}

export interface WsFramingInput {
  /** Damage to the upgrade request: none, a missing key, a wrong version, no STOMP subprotocol, garbage. */
  upgrade: 'valid' | 'no-key' | 'version-8' | 'no-subprotocol' | 'garbage';
  frames: WsFrameModel[];
  cuts: number[];
}

const payload = fc.oneof(
  { weight: 3, arbitrary: stompFrame.map((f) => stompFrameBytes(f, '1.2')) },
  { weight: 1, arbitrary: fc.constant(connectBytes('1.2')) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
);

const wsFrame: fc.Arbitrary<WsFrameModel> = fc.record({
  fin: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, fc.constant(false)),
  rsv: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 7 })),
  opcode: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(1, 2) },
    fc.constantFrom(0, 8, 9, 10),
    fc.integer({ min: 0, max: 15 }),
  ),
  masked: fc.oneof({ weight: 10, arbitrary: fc.constant(true) }, fc.constant(false)),
  length: fc.constantFrom(
    'honest' as const,
    'honest' as const,
    'long16' as const,
    'long64' as const,
    'lie' as const,
  ),
  lie: fc.nat(),
  payload,
});

export const wsFramingInput: fc.Arbitrary<WsFramingInput> = fc.record({
  upgrade: fc.oneof(
    { weight: 12, arbitrary: fc.constant('valid' as const) },
    fc.constantFrom('no-key' as const, 'version-8' as const, 'no-subprotocol' as const, 'garbage' as const),
  ),
  frames: fc.array(wsFrame, { maxLength: 8 }),
  cuts: fc.array(fc.nat(), { maxLength: 5 }),
});

function upgradeRequest(kind: WsFramingInput['upgrade'], port: number): Buffer {
  if (kind === 'garbage')
    return Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03GET / HTTP/1.1\r\n\r\n', 'latin1');
  const lines = [
    'GET /ws HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Version: ${kind === 'version-8' ? 8 : 13}`,
  ];
  if (kind !== 'no-key') lines.push(`Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`);
  if (kind !== 'no-subprotocol') lines.push('Sec-WebSocket-Protocol: v12.stomp');
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** RFC 6455 section 5.2, with the liberties the model asks for. */
function frameBytes(f: WsFrameModel): Buffer {
  const n = f.payload.length;
  const head: number[] = [(f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode];
  const mask = f.masked ? 0x80 : 0;
  const lengthBytes: number[] = [];
  if (f.length === 'lie') {
    head.push(mask | 127);
    const big = BigInt(f.lie) * 65537n;
    for (let i = 7; i >= 0; i--) lengthBytes.push(Number((big >> BigInt(i * 8)) & 0xffn));
  } else if (f.length === 'long64' || (f.length === 'honest' && n > 65535)) {
    head.push(mask | 127);
    for (let i = 7; i >= 0; i--) lengthBytes.push(i >= 4 ? 0 : (n >>> (i * 8)) & 0xff);
  } else if (f.length === 'long16' || n > 125) {
    head.push(mask | 126, (n >>> 8) & 0xff, n & 0xff);
  } else {
    head.push(mask | n);
  }
  const key = f.masked ? [0x12, 0x34, 0x56, 0x78] : [];
  const body = Buffer.from(f.payload);
  if (f.masked) for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (key[i % 4] as number);
  return Buffer.concat([Buffer.from(head), Buffer.from(lengthBytes), Buffer.from(key), body]);
}

/**
 * WebSocket framing into the real STOMP-over-WebSocket listener over loopback TCP: upgrade requests valid and
 * broken, then frames with wrong opcodes, reserved bits, unmasked payloads, lying lengths and STOMP frames inside,
 * cut into random writes. After each input the connection is gone from the broker and nothing escaped; at the
 * end a real client still completes a STOMP round trip over WebSocket.
 */
export function wsFramingTarget(watch: EscapeWatch): FuzzTarget<WsFramingInput> {
  let broker: Broker | undefined;
  let listener: StompWsListener | undefined;
  const port = (): number => (listener as StompWsListener).address.port;
  return {
    name: 'ws-framing',
    description: 'WebSocket upgrade and framing into the real Web-STOMP listener over loopback',
    arbitrary: wsFramingInput,
    async setup() {
      broker = new Broker();
      await broker.start();
      listener = await listenStompWs({
        broker,
        host: '127.0.0.1',
        port: 0,
        staticDir: null,
        heartbeatGraceMs: 1000,
      });
    },
    async teardown() {
      if (broker !== undefined && listener !== undefined) await roundTrip(port());
      await listener?.close();
      await broker?.close();
    },
    async run(input) {
      const b = broker as Broker;
      const socket = connect(port(), '127.0.0.1');
      socket.on('error', () => {});
      // Read (and drop) what the server says: an unread socket never reaches 'end', so it would never close.
      socket.resume();
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const bytes = Buffer.concat([upgradeRequest(input.upgrade, port()), ...input.frames.map(frameBytes)]);
      for (const chunk of cutAt(bytes, input.cuts)) socket.write(chunk);
      socket.end();
      const deadline = setTimeout(() => socket.destroy(), 5000);
      await closed;
      clearTimeout(deadline);
      // The server may still be tearing the session down on its side: poll with a deadline.
      for (let i = 0; b.connections.size > 0 && i < 500; i++) await settle(1);
      const escaped = watch.take();
      invariant(escaped.length === 0, () => `escaped into the event loop: ${String(escaped[0])}`);
      invariant(
        b.connections.size === 0,
        () => `${b.connections.size} WebSocket session(s) outlived the socket`,
      );
    },
  };
}

/** A well-behaved client: SUBSCRIBE, SEND to itself, get the MESSAGE. */
async function roundTrip(port: number): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['v12.stomp']);
  const got = new Promise<string>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('MESSAGE')) resolve(text.slice(text.indexOf('\n\n') + 2, text.indexOf('\0')));
    });
    ws.on('error', reject);
    setTimeout(() => reject(new Error('no MESSAGE from the listener after the fuzz run')), 5000).unref();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
  ws.send('SUBSCRIBE\nid:0\ndestination:/queue/fuzz.ws.check\n\n\0');
  ws.send('SEND\ndestination:/queue/fuzz.ws.check\n\nstill serving\0');
  const body = await got;
  ws.terminate();
  invariant(body === 'still serving', () => `the listener answered ${JSON.stringify(body)}`);
}
