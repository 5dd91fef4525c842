// Overview: totals, the broker's message rates and queued messages over the last minutes, the node's memory,
// disk and alarms, and the listeners.
import { api } from '../api.js';
import { History, lineChart } from '../charts.js';
import { fill, fmt, h, pairs, section, table } from '../dom.js';
import { hasTag } from '../shell.js';

const RATES = ['publish', 'deliver', 'ack', 'redeliver'];
const rateHistory = new History(RATES);
const depthHistory = new History(['ready', 'unacked']);
let latest;

/**
 * Polls /api/overview into the histories. The shell calls it on every poll whatever the view, so the charts
 * keep their minutes while the operator looks at other pages.
 */
export async function sampleOverview() {
  latest = await api('GET', '/api/overview');
  const stats = latest.message_stats ?? {};
  const rate = (name) => stats[`${name}_details`]?.rate ?? 0;
  const now = Date.now();
  rateHistory.push(now, {
    publish: rate('publish'),
    deliver: rate('deliver_get'),
    ack: rate('ack'),
    redeliver: rate('redeliver'),
  });
  const totals = latest.queue_totals ?? {};
  depthHistory.push(now, { ready: totals.messages_ready, unacked: totals.messages_unacknowledged });
}

export function overviewView() {
  const totals = h('div', { class: 'stats' });
  const rates = lineChart('Message rates', rateHistory, '/s');
  rates.el.id = 'overview-rates';
  const depth = lineChart('Queued messages', depthHistory, '');
  depth.el.id = 'overview-depth';
  const node = h('div');
  const listeners = h('div');
  const el = h(
    'div',
    {},
    h('h1', {}, 'Overview'),
    totals,
    h('div', { class: 'charts' }, rates.el, depth.el),
    section('Node', node),
    section('Listeners', listeners),
  );
  return {
    title: 'Overview',
    el,
    async refresh() {
      if (latest === undefined) return;
      const o = latest.object_totals ?? {};
      const q = latest.queue_totals ?? {};
      fill(
        totals,
        stat('Connections', o.connections),
        stat('Channels', o.channels),
        stat('Exchanges', o.exchanges),
        stat('Queues', o.queues),
        stat('Consumers', o.consumers),
        stat('Ready', q.messages_ready),
        stat('Unacked', q.messages_unacknowledged),
      );
      rates.update();
      depth.update();
      fill(
        listeners,
        table(
          'Listeners',
          [
            { label: 'Protocol', cell: (l) => l.protocol },
            { label: 'Address', cell: (l) => l.ip_address },
            { label: 'Port', cell: (l) => String(l.port), num: true },
          ],
          latest.listeners ?? [],
        ),
      );
      // The node's figures are for monitoring users and administrators; others are not asked for them.
      if (!hasTag('monitoring')) {
        fill(
          node,
          h('p', { class: 'muted' }, `${latest.product_name} ${latest.product_version}, node ${latest.node}`),
        );
        return;
      }
      const [n] = await api('GET', '/api/nodes');
      fill(node, nodeFacts(latest, n));
    },
    destroy() {
      rates.destroy();
      depth.destroy();
    },
  };
}

function stat(label, value) {
  return h('div', { class: 'stat' }, h('span', { class: 'value' }, fmt.num(value)), h('span', {}, label));
}

function nodeFacts(o, n) {
  const alarms = [n.mem_alarm && 'memory', n.disk_free_alarm && 'disk'].filter(Boolean);
  return [
    h(
      'p',
      { class: alarms.length > 0 ? 'alarm' : 'ok', id: 'alarms' },
      alarms.length > 0 ? `Resource alarm: ${alarms.join(', ')}. Publishers are blocked.` : 'No alarms.',
    ),
    pairs([
      ['Node', n.name],
      ['Version', `${o.product_name} ${o.product_version} (RabbitMQ ${o.rabbitmq_version} API)`],
      ['Uptime', fmt.duration(n.uptime)],
      ['Memory', meter(n.mem_used, n.mem_limit, 'memory')],
      ['Disk free', `${fmt.bytes(n.disk_free)} (limit ${fmt.bytes(n.disk_free_limit)})`],
      ['File descriptors', fmt.num(n.fd_used)],
      ['Sockets', fmt.num(n.sockets_used)],
    ]),
  ];
}

/** Used of limit as a bar and its figures; the bar is labelled for screen readers. */
function meter(used, limit, what) {
  const text = `${fmt.bytes(used)} of ${fmt.bytes(limit)}`;
  if (!(limit > 0)) return fmt.bytes(used);
  return h(
    'span',
    { class: 'meter-row' },
    h('meter', { min: 0, max: limit, value: used, high: limit * 0.8, 'aria-label': `${what}: ${text}` }),
    ' ',
    text,
  );
}
