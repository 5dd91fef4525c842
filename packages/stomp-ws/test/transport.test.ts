import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { WebSocketTransport } from '../src/transport';

interface Sent {
  data: Buffer;
  binary: boolean;
  fin: boolean;
}

/** Just what the transport uses of a ws WebSocket, with bufferedAmount under the test's control. */
class FakeWebSocket {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  readonly sent: Sent[] = [];
  closedWith: [number, string] | undefined = undefined;
  terminated = false;

  send(data: Buffer, options: { binary?: boolean; fin?: boolean }): void {
    this.sent.push({ data, binary: options.binary ?? false, fin: options.fin ?? true });
    this.bufferedAmount += data.length;
  }

  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
    this.readyState = WebSocket.CLOSING;
  }

  terminate(): void {
    this.terminated = true;
  }
}

/** The upgraded socket under ws: its 'drain', and how deep it is corked (the transport corks it per tick). */
class FakeSocket extends EventEmitter {
  corked = 0;
  cork(): void {
    this.corked++;
  }
  uncork(): void {
    if (this.corked > 0) this.corked--;
  }
}

function setup(options: { maxOutboundBytes?: number; binaryFrames?: boolean } = {}) {
  const ws = new FakeWebSocket();
  const socket = new FakeSocket();
  const transport = new WebSocketTransport(
    ws as unknown as WebSocket,
    socket as unknown as Duplex,
    { address: '127.0.0.1', port: 1234 },
    { maxOutboundBytes: options.maxOutboundBytes ?? 1 << 20, binaryFrames: options.binaryFrames ?? false },
  );
  return { ws, socket, transport };
}

const frame = (t: WebSocketTransport, ...chunks: Buffer[]): boolean => {
  t.cork();
  let ok = true;
  for (const c of chunks) ok = t.write(c) && ok;
  t.uncork();
  return ok;
};

describe('WebSocketTransport', () => {
  it('sends what was written between cork() and uncork() as one text message', () => {
    const { ws, transport } = setup();
    frame(
      transport,
      Buffer.from('MESSAGE\n'),
      Buffer.from('destination:/queue/a\n\n'),
      Buffer.from('hé'),
      Buffer.from([0]),
    );
    expect(ws.sent).toHaveLength(1);
    expect(ws.sent[0]?.binary).toBe(false);
    expect(ws.sent[0]?.data.toString()).toBe('MESSAGE\ndestination:/queue/a\n\nhé\0');
  });

  it('sends a frame whose body is not UTF-8 as a binary message', () => {
    const { ws, transport } = setup();
    frame(transport, Buffer.from('MESSAGE\n\n'), Buffer.from([0xc3, 0x28]), Buffer.from([0]));
    expect(ws.sent.map((s) => s.binary)).toEqual([true]);
  });

  it('sends every frame as binary when binaryFrames is set', () => {
    const { ws, transport } = setup({ binaryFrames: true });
    frame(transport, Buffer.from('RECEIPT\nreceipt-id:1\n\n\0'));
    expect(ws.sent.map((s) => s.binary)).toEqual([true]);
  });

  it('sends a write outside cork() (a heart-beat) as a message of its own', () => {
    const { ws, transport } = setup();
    transport.write(Buffer.from('\n'));
    expect(ws.sent.map((s) => s.data.toString())).toEqual(['\n']);
  });

  it('sends a large frame as fragments of one message, without copying the body', () => {
    const { ws, transport } = setup();
    const body = Buffer.alloc(200 * 1024, 'b');
    frame(transport, Buffer.from('MESSAGE\n'), Buffer.from('\n'), body, Buffer.from([0]));
    expect(ws.sent.map((s) => s.fin)).toEqual([false, false, false, true]);
    expect(ws.sent[2]?.data).toBe(body);
  });

  it('reports back-pressure past the outbound limit and calls onDrained once half of it is sent', () => {
    const { ws, socket, transport } = setup({ maxOutboundBytes: 1000 });
    let drained = 0;
    transport.onDrained = () => drained++;
    expect(frame(transport, Buffer.alloc(600, 'a'))).toBe(true);
    expect(frame(transport, Buffer.alloc(600, 'a'))).toBe(false);
    socket.emit('drain');
    expect(drained).toBe(0);
    ws.bufferedAmount = 400;
    socket.emit('drain');
    expect(drained).toBe(1);
    socket.emit('drain');
    expect(drained).toBe(1);
    transport.closed();
  });

  it('shows the first message to onFirstMessage before sending it', () => {
    const { ws, transport } = setup();
    const seen: string[] = [];
    transport.onFirstMessage = (chunks) => seen.push(Buffer.concat(chunks).toString());
    frame(transport, Buffer.from('CONNECTED\nheart-beat:0,0\n\n\0'));
    frame(transport, Buffer.from('RECEIPT\n\n\0'));
    expect(seen).toEqual(['CONNECTED\nheart-beat:0,0\n\n\0']);
    expect(ws.sent).toHaveLength(2);
  });

  it('closes with 1000 "STOMP died" like RabbitMQ, and with 1001 when going away', () => {
    const one = setup();
    one.transport.end();
    expect(one.ws.closedWith).toEqual([1000, 'STOMP died']);
    one.transport.closed();
    const two = setup();
    two.transport.goingAway = true;
    two.transport.destroy();
    expect(two.ws.closedWith).toEqual([1001, 'Broker shutdown']);
    two.transport.closed();
  });
  it('keeps the raw socket corked for the rest of the tick, so the messages of one tick leave in one write', async () => {
    const { ws, socket, transport } = setup();
    frame(transport, Buffer.from('MESSAGE\n\n'), Buffer.from('one\0'));
    frame(transport, Buffer.from('MESSAGE\n\n'), Buffer.from('two\0'));
    expect(ws.sent.map((m) => m.data.toString())).toEqual(['MESSAGE\n\none\0', 'MESSAGE\n\ntwo\0']);
    expect(socket.corked).toBe(1);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(socket.corked).toBe(0);
  });
});
