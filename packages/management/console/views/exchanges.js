// Exchanges: the list, and an exchange's page with its bindings, a binding form and a publish form.
import { api, path } from '../api.js';
import { field, fill, fmt, h, jsonObject, pairs, section, select } from '../dom.js';
import { act } from '../shell.js';
import { bindForm, bindingsTable, DEFAULT_EXCHANGE, exchangeHref, exchangeLabel } from './bindings.js';
import { listing } from './list.js';

const features = (x) =>
  [x.durable && 'durable', x.auto_delete && 'auto-delete', x.internal && 'internal']
    .filter(Boolean)
    .join(', ') || '–';

export function exchangesView() {
  const list = listing('/api/exchanges', 'Exchanges', [
    { label: 'Vhost', cell: (x) => x.vhost },
    { label: 'Name', cell: (x) => h('a', { href: exchangeHref(x.vhost, x.name) }, exchangeLabel(x.name)) },
    { label: 'Type', cell: (x) => x.type },
    { label: 'Features', cell: features },
    { label: 'Arguments', cell: (x) => fmt.table(x.arguments) },
  ]);
  return { title: 'Exchanges', el: h('div', {}, h('h1', {}, 'Exchanges'), list.el), refresh: list.refresh };
}

export function exchangeView(vhost, name) {
  const facts = h('div');
  const bindings = h('div');
  const el = h(
    'div',
    {},
    h('p', { class: 'crumbs' }, h('a', { href: '#/exchanges' }, 'Exchanges'), ` / vhost ${vhost}`),
    h('h1', {}, exchangeLabel(name === DEFAULT_EXCHANGE ? '' : name)),
    facts,
    section(
      'Bindings from this exchange',
      bindings,
      name === DEFAULT_EXCHANGE
        ? h(
            'p',
            { class: 'muted' },
            'The default exchange routes to every queue by its name; it takes no other bindings.',
          )
        : bindForm(vhost, { exchange: name }),
    ),
    section('Publish a message', publishForm(vhost, name)),
  );
  return {
    title: `Exchange ${name}`,
    el,
    async refresh() {
      const [x, out] = await Promise.all([
        api('GET', path`/api/exchanges/${vhost}/${name}`),
        api('GET', path`/api/exchanges/${vhost}/${name}/bindings/source`),
      ]);
      fill(
        facts,
        pairs([
          ['Vhost', x.vhost],
          ['Type', x.type],
          ['Features', features(x)],
          ['Arguments', fmt.table(x.arguments)],
        ]),
      );
      fill(bindings, bindingsTable(out, 'destination'));
    },
  };
}

function publishForm(vhost, name) {
  const key = h('input', { name: 'routing_key', autocomplete: 'off' });
  const mode = select(
    'delivery_mode',
    [
      ['1', '1 - non-persistent'],
      ['2', '2 - persistent'],
    ],
    '1',
  );
  const headers = h('textarea', { name: 'headers', rows: 2, placeholder: '{"source": "console"}' });
  const properties = h('textarea', {
    name: 'properties',
    rows: 2,
    placeholder: '{"content_type": "text/plain"}',
  });
  const payload = h('textarea', { name: 'payload', rows: 4 });
  const encoding = select(
    'payload_encoding',
    [
      ['string', 'text'],
      ['base64', 'base64'],
    ],
    'string',
  );
  const form = h(
    'form',
    { class: 'form', id: 'publish' },
    field('Routing key', key),
    field('Delivery mode', mode),
    field('Headers (JSON)', headers),
    field(
      'Properties (JSON)',
      properties,
      'content_type, correlation_id, reply_to, message_id, expiration, ...',
    ),
    field('Payload', payload),
    field('Payload encoding', encoding),
    h('button', { type: 'submit' }, 'Publish message'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(
      () => {
        const props = { ...jsonObject(properties.value, 'Properties'), delivery_mode: Number(mode.value) };
        const table = jsonObject(headers.value, 'Headers');
        if (Object.keys(table).length > 0) props.headers = table;
        return api('POST', path`/api/exchanges/${vhost}/${name}/publish`, {
          routing_key: key.value,
          properties: props,
          payload: payload.value,
          payload_encoding: encoding.value,
        });
      },
      (result) =>
        result.routed
          ? 'Message published and routed.'
          : 'Message published, but no queue was bound to take it.',
    );
  });
  return form;
}
