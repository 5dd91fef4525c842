// Bindings tables and the form that adds one, shared by the exchange and queue pages.
import { api, path } from '../api.js';
import { button, field, fmt, h, jsonObject, select, table } from '../dom.js';
import { act } from '../shell.js';

/** The default exchange's name in URLs; its real name is the empty string. */
export const DEFAULT_EXCHANGE = 'amq.default';
export const exchangeLabel = (name) => (name === '' ? '(AMQP default)' : name);
export const exchangeHref = (vhost, name) =>
  `#/exchanges/${encodeURIComponent(vhost)}/${encodeURIComponent(name === '' ? DEFAULT_EXCHANGE : name)}`;
export const queueHref = (vhost, name) => `#/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}`;

function unbind(b) {
  const kind = b.destination_type === 'queue' ? 'q' : 'e';
  // properties_key is already URL-safe (the API built it with encodeURIComponent): it goes in as it is.
  const url = path`/api/bindings/${b.vhost}/e/${b.source}/${kind}/${b.destination}/` + b.properties_key;
  return act(() => api('DELETE', url), 'Binding removed.');
}

/** Bindings from the API; `side` is the column naming the other end ('source' or 'destination'). */
export function bindingsTable(bindings, side) {
  const end = (b) =>
    side === 'source'
      ? h('a', { href: exchangeHref(b.vhost, b.source) }, exchangeLabel(b.source))
      : h(
          'a',
          {
            href:
              b.destination_type === 'queue'
                ? queueHref(b.vhost, b.destination)
                : exchangeHref(b.vhost, b.destination),
          },
          `${b.destination} (${b.destination_type})`,
        );
  return table(
    'Bindings',
    [
      { label: side === 'source' ? 'From exchange' : 'To', cell: end },
      { label: 'Routing key', cell: (b) => h('code', {}, b.routing_key) },
      { label: 'Arguments', cell: (b) => fmt.table(b.arguments) },
      // The default exchange's implicit bindings cannot be removed, in RabbitMQ either.
      {
        label: '',
        cell: (b) => (b.source === '' ? '' : button('Unbind', () => void unbind(b), 'secondary small')),
      },
    ],
    bindings,
    'No bindings.',
  );
}

/**
 * Adds a binding. From a queue's page the source exchange is asked for; from an exchange's page, the
 * destination (a queue or an exchange).
 */
export function bindForm(vhost, fixed) {
  const other = h('input', { name: 'other', required: true, autocomplete: 'off' });
  const kind = select(
    'kind',
    [
      ['q', 'queue'],
      ['e', 'exchange'],
    ],
    'q',
  );
  const key = h('input', { name: 'routing_key', autocomplete: 'off' });
  const args = h('textarea', { name: 'arguments', rows: 2, placeholder: '{"x-match": "all"}' });
  const form = h(
    'form',
    { class: 'form' },
    fixed.queue === undefined
      ? [field('Destination type', kind), field('Destination', other)]
      : field('From exchange', other),
    field('Routing key', key),
    field('Arguments (JSON)', args),
    h('button', { type: 'submit' }, 'Bind'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const url =
      fixed.queue === undefined
        ? path`/api/bindings/${vhost}/e/${fixed.exchange}/${kind.value}/${other.value}`
        : path`/api/bindings/${vhost}/e/${other.value}/q/${fixed.queue}`;
    void act(async () => {
      await api('POST', url, { routing_key: key.value, arguments: jsonObject(args.value, 'Arguments') });
      form.reset();
    }, 'Binding added.');
  });
  return form;
}
