'use strict';
/**
 * The core's per-message cost on the 1:1 path with acks, no protocol and no I/O: one publish to a queue, its
 * delivery to a consumer with prefetch 100, and a basic.ack per delivery (or one multiple ack per 50), over the
 * built core (`npm run build` first). Prints messages/s; with --json one JSON line. Used to see what the
 * channel's settle path costs (issue 15: per-ack allocations) apart from codecs and sockets.
 *
 *   node packages/core/bench/ack-path.bench.js [--multiple] [--json]
 */
const { Broker, Message } = require('../dist');

const messages = Number(process.env.BENCH_MESSAGES ?? 2_000_000);
const multiple = process.argv.includes('--multiple');
const json = process.argv.includes('--json');

async function main() {
  const broker = new Broker();
  await broker.start();
  const user = broker.authenticate('guest', 'guest', true);
  const conn = broker.connect(user, '/', { protocol: 'bench', remoteAddress: '127.0.0.1', remotePort: 0 });
  const ch = conn.openChannel(1, { returned: () => {}, confirmed: () => {} });
  ch.queueDeclare('bench', { durable: false, exclusive: false, autoDelete: false, arguments: {} });
  let delivered = 0;
  let lastTag = 0;
  ch.consume(
    'bench',
    { prefetch: 100 },
    {
      deliver: (d) => {
        delivered++;
        lastTag = d.tag;
        if (!multiple) ch.ack(d.tag);
        else if (delivered % 50 === 0) ch.ack(d.tag, true);
      },
      cancelledByBroker: () => {},
    },
  );
  const body = Buffer.alloc(16);
  const run = (n) => {
    for (let i = 0; i < n; i++) ch.publish('', Message.fromProperties('', 'bench', {}, body));
  };
  run(200_000); // warm-up
  const start = process.hrtime.bigint();
  run(messages);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (multiple && delivered % 50 !== 0) ch.ack(lastTag, true);
  const rate = Math.round(messages / seconds);
  if (json) console.log(JSON.stringify({ bench: 'ack-path', multiple, messages, rate }));
  else
    console.log(
      `ack path (${multiple ? 'multiple ack per 50' : 'ack each'}): ${rate.toLocaleString()} msgs/s`,
    );
  await broker.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
