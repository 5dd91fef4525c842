/* global window */
// Connections (with their client properties and traffic rates; an operator may close one) and channels.
import { api, path } from '../api.js';
import { button, fmt, h } from '../dom.js';
import { act } from '../shell.js';
import { listing } from './list.js';

/**
 * Bytes per second from two polls of a connection's octet counters. The API keeps rates only for queues, so
 * the console derives these itself from consecutive totals.
 */
class OctetRates {
  constructor() {
    this.previous = new Map();
    this.rates = new Map();
  }

  observe(items) {
    const now = Date.now();
    const next = new Map();
    for (const c of items) {
      const before = this.previous.get(c.name);
      if (before !== undefined && now > before.at) {
        const seconds = (now - before.at) / 1000;
        this.rates.set(c.name, {
          recv: Math.max(0, (c.recv_oct - before.recv) / seconds),
          send: Math.max(0, (c.send_oct - before.send) / seconds),
        });
      }
      next.set(c.name, { at: now, recv: c.recv_oct, send: c.send_oct });
    }
    this.previous = next;
  }

  of(name, which) {
    const r = this.rates.get(name);
    return r === undefined ? '–' : `${fmt.bytes(Math.round(r[which]))}/s`;
  }
}

export function connectionsView() {
  const rates = new OctetRates();
  const close = (c) => () => {
    // confirm() is the browser's own dialog: focusable, keyboard-usable, announced by screen readers.
    if (!window.confirm(`Close connection ${c.name}?`)) return;
    void act(
      () =>
        api('DELETE', path`/api/connections/${c.name}`, undefined, {
          'X-Reason': 'Closed from the Warren console',
        }),
      `Closed ${c.name}.`,
    );
  };
  const list = listing(
    '/api/connections',
    'Connections',
    [
      { label: 'Name', cell: (c) => c.name },
      { label: 'Protocol', cell: (c) => c.protocol },
      { label: 'User', cell: (c) => c.user },
      { label: 'Vhost', cell: (c) => c.vhost },
      { label: 'Client', cell: clientSummary },
      { label: 'Channels', cell: (c) => fmt.num(c.channels), num: true },
      { label: 'From client', cell: (c) => rates.of(c.name, 'recv'), num: true },
      { label: 'To client', cell: (c) => rates.of(c.name, 'send'), num: true },
      { label: 'Connected', cell: (c) => new Date(c.connected_at).toLocaleTimeString() },
      { label: '', cell: (c) => button('Close', close(c), 'danger small') },
    ],
    (items) => rates.observe(items),
  );
  return {
    title: 'Connections',
    el: h('div', {}, h('h1', {}, 'Connections'), list.el),
    refresh: list.refresh,
  };
}

/** The client's product and version, with every client property in a disclosure. */
function clientSummary(c) {
  const props = c.client_properties ?? {};
  const label = [props.product, props.version].filter((v) => typeof v === 'string').join(' ') || 'properties';
  if (Object.keys(props).length === 0) return '–';
  return h('details', {}, h('summary', {}, label), fmt.table(props));
}

export function channelsView() {
  const list = listing('/api/channels', 'Channels', [
    { label: 'Channel', cell: (ch) => ch.name },
    { label: 'User', cell: (ch) => ch.user },
    { label: 'Vhost', cell: (ch) => ch.vhost },
    {
      label: 'Mode',
      cell: (ch) => [ch.confirm && 'confirm', ch.transactional && 'tx'].filter(Boolean).join(', ') || '–',
    },
    { label: 'State', cell: (ch) => ch.state },
    { label: 'Prefetch', cell: (ch) => fmt.num(ch.prefetch_count), num: true },
    { label: 'Unacked', cell: (ch) => fmt.num(ch.messages_unacknowledged), num: true },
    { label: 'Consumers', cell: (ch) => fmt.num(ch.consumer_count), num: true },
    { label: 'Published', cell: (ch) => fmt.num(ch.message_stats?.publish), num: true },
    { label: 'Delivered', cell: (ch) => fmt.num(ch.message_stats?.deliver_get), num: true },
    { label: 'Acked', cell: (ch) => fmt.num(ch.message_stats?.ack), num: true },
  ]);
  return { title: 'Channels', el: h('div', {}, h('h1', {}, 'Channels'), list.el), refresh: list.refresh };
}
