import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { SocketTransport } from '@warren/core';

/** A connected pair of real loopback sockets: the broker's end and the peer's. */
async function pair(): Promise<{ server: Server; broker: Socket; peer: Socket }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const accepted = once(server, 'connection');
  const peer = connect(port, '127.0.0.1');
  const [broker] = (await accepted) as [Socket];
  return { server, broker, peer };
}

const nextTick = () => new Promise((resolve) => process.nextTick(resolve));

describe('SocketTransport', () => {
  test('the bursts of one tick stay corked until the tick ends, then reach the peer in order', async () => {
    const { server, broker, peer } = await pair();
    try {
      const t = new SocketTransport('stomp', broker);
      const received: Buffer[] = [];
      peer.on('data', (chunk: Buffer) => received.push(chunk));
      for (const text of ['one\0', 'two\0', 'three\0']) {
        t.cork();
        t.write(Buffer.from(text));
        t.uncork();
      }
      // Nothing has left yet: all three frames wait for one writev at the end of the tick.
      expect(broker.writableCorked).toBe(1);
      await nextTick();
      expect(broker.writableCorked).toBe(0);
      const deadline = Date.now() + 5000;
      while (Buffer.concat(received).length < 14 && Date.now() < deadline) await once(peer, 'data');
      expect(Buffer.concat(received).toString()).toBe('one\0two\0three\0');
    } finally {
      peer.destroy();
      broker.destroy();
      server.close();
    }
  });

  test('end() after a burst still delivers it before the close', async () => {
    const { server, broker, peer } = await pair();
    try {
      const t = new SocketTransport('stomp', broker);
      const received: Buffer[] = [];
      peer.on('data', (chunk: Buffer) => received.push(chunk));
      t.cork();
      t.write(Buffer.from('ERROR\nmessage:bye\n\n\0'));
      t.uncork();
      t.end();
      await once(peer, 'end');
      expect(Buffer.concat(received).toString()).toBe('ERROR\nmessage:bye\n\n\0');
    } finally {
      peer.destroy();
      broker.destroy();
      server.close();
    }
  });
});
