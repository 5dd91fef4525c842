import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, startStompBroker, waitFor, type StompTestBroker } from './support';
import { describeWith } from '../support/requires';

describeWith(['libnet-stomp-perl'], 'Net::Stomp', () => {
  // The Net::Stomp programs of seed 004 (perldoc Net::Stomp, as run against RabbitMQ's first STOMP adapter),
  // unchanged but for the port and the "\n" the web page had lost.
  const send = (port: number): string => `# send a message to the queue 'foo'
use Net::Stomp;
my $stomp = Net::Stomp->new({hostname=>'127.0.0.1', port=>'${port}'});
$stomp->connect({login=>'guest', passcode=>'guest'});
$stomp->send({destination=>'foo', body=>($ARGV[0] or 'test message')});
`;

  const recv = (port: number): string => `# subscribe to messages from the queue 'foo'
use Net::Stomp;
$| = 1;
my $stomp = Net::Stomp->new({hostname=>'127.0.0.1', port=>'${port}'});
$stomp->connect({login=>'guest', passcode=>'guest'});
$stomp->subscribe({'destination'=>'foo', 'ack'=>'client'});
while (1) {
  my $frame = $stomp->receive_frame;
  print $frame->body . "\\n";
  last if $frame->body eq 'QUIT';
}
`;

  // The perldoc variant that acknowledges and says goodbye.
  const recvAck = (port: number): string => `use Net::Stomp;
$| = 1;
my $stomp = Net::Stomp->new({hostname=>'127.0.0.1', port=>'${port}'});
$stomp->connect({login=>'guest', passcode=>'guest'});
$stomp->subscribe({'destination'=>'foo', 'ack'=>'client'});
while (1) {
  my $frame = $stomp->receive_frame;
  print $frame->body . "\\n";
  $stomp->ack({frame => $frame});
  last if $frame->body eq 'QUIT';
}
$stomp->disconnect;
`;

  let b: StompTestBroker;
  let dir: string;
  beforeEach(async () => {
    b = await startStompBroker();
    dir = await mkdtemp(join(tmpdir(), 'warren-net-stomp-'));
  });
  afterEach(async () => {
    await b.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function script(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  describe('Perl Net::Stomp running the seed 004 programs', () => {
    it('receives what the sender sends to foo, in order, until QUIT', async () => {
      const recvPath = await script('rabbitmq_stomp_recv.pl', recv(b.port));
      const sendPath = await script('rabbit_stomp_send.pl', send(b.port));
      const receiver = run('perl', [recvPath]);
      await waitFor(() => b.queue('foo')?.consumerCount === 1, 'the receiver to subscribe');
      for (const arg of [[], ['hello world'], ['QUIT']]) {
        const r = await run('perl', [sendPath, ...arg]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      }
      const out = await receiver;
      expect(out.stdout).toBe('test message\nhello world\nQUIT\n');
      expect(out.code).toBe(0);
      // The receiver never acked (ack client) and just exited: the broker requeues its three messages.
      await waitFor(() => b.queue('foo')?.messageCount === 3, 'the unacked messages to be requeued');
    });

    it('works when the sender runs first: the queue is declared by the first SEND', async () => {
      const sendPath = await script('send.pl', send(b.port));
      expect((await run('perl', [sendPath, 'early bird'])).code).toBe(0);
      expect(b.queue('foo')?.messageCount).toBe(1);
      expect((await run('perl', [sendPath, 'QUIT'])).code).toBe(0);
      const out = await run('perl', [await script('recv.pl', recvAck(b.port))]);
      expect(out.stdout).toBe('early bird\nQUIT\n');
      await waitFor(() => b.broker.connections.size === 0, 'the receiver to disconnect');
      // It acked both before DISCONNECT: nothing is left or requeued.
      expect(b.queue('foo')?.messageCount).toBe(0);
      expect(b.queue('foo')?.unackedCount).toBe(0);
    });
  });
});
