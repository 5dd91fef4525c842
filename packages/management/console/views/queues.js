/* global window */
// Queues: the list with a form to declare one, and a queue's page: depth chart and rates, consumers,
// arguments, bindings, getting messages in any of RabbitMQ's four ack modes, purge and delete.
import { api, path } from '../api.js';
import { History, lineChart } from '../charts.js';
import { button, field, fill, fmt, h, jsonObject, pairs, section, select, table } from '../dom.js';
import { act, navigate } from '../shell.js';
import { bindForm, bindingsTable, queueHref } from './bindings.js';
import { listing } from './list.js';

const rate = (q, name) => fmt.rate(q.message_stats?.[`${name}_details`]?.rate);
const features = (q) =>
  [q.durable && 'durable', q.auto_delete && 'auto-delete', q.exclusive && 'exclusive']
    .filter(Boolean)
    .join(', ') || '–';

export function queuesView() {
  const list = listing('/api/queues', 'Queues', [
    { label: 'Vhost', cell: (q) => q.vhost },
    { label: 'Name', cell: (q) => h('a', { href: queueHref(q.vhost, q.name) }, q.name) },
    { label: 'Features', cell: features },
    { label: 'Ready', cell: (q) => fmt.num(q.messages_ready), num: true },
    { label: 'Unacked', cell: (q) => fmt.num(q.messages_unacknowledged), num: true },
    { label: 'Total', cell: (q) => fmt.num(q.messages), num: true },
    { label: 'Incoming', cell: (q) => rate(q, 'publish'), num: true },
    { label: 'Deliver / get', cell: (q) => rate(q, 'deliver_get'), num: true },
    { label: 'Ack', cell: (q) => rate(q, 'ack'), num: true },
    { label: 'Consumers', cell: (q) => fmt.num(q.consumers), num: true },
  ]);
  return {
    title: 'Queues',
    el: h('div', {}, h('h1', {}, 'Queues'), list.el, section('Add a queue', declareForm())),
    refresh: list.refresh,
  };
}

function declareForm() {
  const vhost = h('select', { name: 'vhost' });
  const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
  const durable = select(
    'durable',
    [
      ['true', 'durable'],
      ['false', 'transient'],
    ],
    'true',
  );
  const autoDelete = select(
    'auto_delete',
    [
      ['false', 'no'],
      ['true', 'yes'],
    ],
    'false',
  );
  const args = h('textarea', { name: 'arguments', rows: 2, placeholder: '{"x-message-ttl": 60000}' });
  const form = h(
    'form',
    { class: 'form', id: 'declare-queue' },
    field('Vhost', vhost),
    field('Name', name),
    field('Durability', durable),
    field('Auto delete', autoDelete),
    field('Arguments (JSON)', args, 'x-message-ttl, x-expires, x-max-length, x-dead-letter-exchange, ...'),
    h('button', { type: 'submit' }, 'Add queue'),
  );
  void vhostOptions(vhost);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const created = name.value;
    void act(async () => {
      await api('PUT', path`/api/queues/${vhost.value}/${created}`, {
        durable: durable.value === 'true',
        auto_delete: autoDelete.value === 'true',
        arguments: jsonObject(args.value, 'Arguments'),
      });
      name.value = '';
    }, `Queue ${created} declared.`);
  });
  return form;
}

/** Fills a select with the vhosts the user can see. */
export async function vhostOptions(selectEl) {
  const vhosts = await api('GET', '/api/vhosts?columns=name');
  fill(
    selectEl,
    vhosts.map((v) => h('option', { value: v.name }, v.name)),
  );
}

/** Depth histories per queue, kept while the page is open so coming back to a queue keeps its chart. */
const depths = new Map();

export function queueView(vhost, name) {
  const key = `${vhost}\u0000${name}`;
  if (!depths.has(key)) depths.set(key, new History(['ready', 'unacked']));
  const depth = lineChart('Queued messages', depths.get(key), '');
  depth.el.id = 'queue-depth';
  const facts = h('div', { id: 'queue-facts' });
  const consumers = h('div');
  const bindings = h('div');
  const messages = h('div', { id: 'messages', 'aria-live': 'polite' });
  const el = h(
    'div',
    {},
    h('p', { class: 'crumbs' }, h('a', { href: '#/queues' }, 'Queues'), ` / vhost ${vhost}`),
    h('h1', {}, name),
    h('div', { class: 'charts' }, depth.el, facts),
    section('Consumers', consumers),
    section('Bindings', bindings, bindForm(vhost, { queue: name })),
    section('Get messages', getForm(vhost, name, messages), messages),
    section(
      'Purge or delete',
      h(
        'p',
        { class: 'muted' },
        'Purging drops the ready messages; deleting the queue drops it and its messages.',
      ),
      h(
        'div',
        { class: 'actions' },
        button('Purge messages', () => purge(vhost, name), 'danger'),
        button('Delete queue', () => remove(vhost, name), 'danger'),
      ),
    ),
  );
  return {
    title: `Queue ${name}`,
    el,
    async refresh() {
      const [q, bound] = await Promise.all([
        api('GET', path`/api/queues/${vhost}/${name}`),
        api('GET', path`/api/queues/${vhost}/${name}/bindings`),
      ]);
      depths.get(key).push(Date.now(), { ready: q.messages_ready, unacked: q.messages_unacknowledged });
      depth.update();
      fill(facts, queueFacts(q));
      fill(consumers, consumerTable(q.consumer_details ?? []));
      fill(bindings, bindingsTable(bound, 'source'));
    },
    destroy: () => depth.destroy(),
  };
}

function queueFacts(q) {
  return pairs([
    ['Ready', h('span', { id: 'queue-ready' }, fmt.num(q.messages_ready))],
    ['Unacked', fmt.num(q.messages_unacknowledged)],
    ['Total', h('span', { id: 'queue-total' }, fmt.num(q.messages))],
    ['Ready bytes', fmt.bytes(q.message_bytes_ready)],
    ['Incoming', rate(q, 'publish')],
    ['Deliver / get', rate(q, 'deliver_get')],
    ['Ack', rate(q, 'ack')],
    ['Redelivered', rate(q, 'redeliver')],
    ['Consumers', fmt.num(q.consumers)],
    ['Features', features(q)],
    ['Arguments', fmt.table(q.arguments)],
  ]);
}

function consumerTable(consumers) {
  return table(
    'Consumers',
    [
      { label: 'Tag', cell: (c) => c.consumer_tag },
      { label: 'Channel', cell: (c) => c.channel_details?.name },
      { label: 'Ack required', cell: (c) => (c.ack_required ? 'yes' : 'no') },
      { label: 'Exclusive', cell: (c) => (c.exclusive ? 'yes' : 'no') },
      { label: 'Prefetch', cell: (c) => fmt.num(c.prefetch_count), num: true },
      { label: 'Arguments', cell: (c) => fmt.table(c.arguments) },
    ],
    consumers,
    'No consumers.',
  );
}

/** RabbitMQ's four ack modes, worded as its UI words them. */
const ACK_MODES = [
  ['ack_requeue_true', 'Nack message requeue true'],
  ['reject_requeue_true', 'Reject requeue true'],
  ['ack_requeue_false', 'Automatic ack'],
  ['reject_requeue_false', 'Reject requeue false'],
];

function getForm(vhost, name, out) {
  const ackmode = select('ackmode', ACK_MODES, 'ack_requeue_true');
  const encoding = select(
    'encoding',
    [
      ['auto', 'Auto string / base64'],
      ['base64', 'base64'],
    ],
    'auto',
  );
  const count = h('input', { name: 'count', type: 'number', min: 1, value: 1, required: true });
  const truncate = h('input', { name: 'truncate', type: 'number', min: 0, value: 50000 });
  const form = h(
    'form',
    { class: 'form', id: 'get-messages' },
    field('Ack mode', ackmode, 'Requeueing modes put the messages back, marked redelivered.'),
    field('Encoding', encoding),
    field('Messages', count),
    field('Truncate payloads at (bytes)', truncate),
    h('button', { type: 'submit' }, 'Get messages'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(
      async () => {
        const got = await api('POST', path`/api/queues/${vhost}/${name}/get`, {
          count: Number(count.value),
          ackmode: ackmode.value,
          encoding: encoding.value,
          ...(truncate.value === '' ? {} : { truncate: Number(truncate.value) }),
        });
        fill(
          out,
          got.length === 0 ? h('p', { class: 'muted' }, 'The queue is empty.') : got.map(messageCard),
        );
        return got.length;
      },
      (n) => `Got ${n} message${n === 1 ? '' : 's'}.`,
    );
  });
  return form;
}

function messageCard(m, i) {
  return h(
    'article',
    { class: 'message' },
    h('h3', {}, `Message ${i + 1}`),
    pairs([
      ['Exchange', m.exchange === '' ? '(AMQP default)' : m.exchange],
      ['Routing key', m.routing_key],
      ['Redelivered', m.redelivered ? 'yes' : 'no'],
      ['Remaining in queue', fmt.num(m.message_count)],
      ['Properties', fmt.table(m.properties)],
      ['Payload', `${fmt.num(m.payload_bytes)} bytes, encoding ${m.payload_encoding}`],
    ]),
    h('pre', { class: 'payload' }, m.payload),
  );
}

function purge(vhost, name) {
  if (!window.confirm(`Purge every ready message of ${name}?`)) return;
  void act(() => api('DELETE', path`/api/queues/${vhost}/${name}/contents`), `Queue ${name} purged.`);
}

function remove(vhost, name) {
  if (!window.confirm(`Delete queue ${name} and its messages?`)) return;
  void act(async () => {
    await api('DELETE', path`/api/queues/${vhost}/${name}`);
    navigate('#/queues');
  }, `Queue ${name} deleted.`);
}
