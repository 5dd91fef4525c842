/* global document, location, TextDecoder */
// Warren's demo page: one @stomp/stompjs Client over the broker's WebSocket endpoint, exactly as a browser app
// would talk to RabbitMQ's Web-STOMP. The UMD bundle loaded before this module defines globalThis.StompJs, so
// no bundler is needed. Everything shown comes from the network, so it is written with textContent only.

const MAX_SHOWN = 200;
const $ = (id) => document.getElementById(id);

const wsPath = document.querySelector('meta[name="warren-ws-path"]')?.getAttribute('content') || '/ws';
const endpoint = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${wsPath}`;
$('endpoint').textContent = endpoint;

/** @type {import('@stomp/stompjs').Client | undefined} */
let client;
/** Destination -> its live subscription (undefined while disconnected); kept across reconnects. */
const subscriptions = new Map();
let received = 0;
let receipts = 0;

function setState(state, text) {
  $('status').dataset.state = state;
  $('status-text').textContent = text;
  const connected = state === 'connected';
  $('subscribe').disabled = !connected;
  $('send').disabled = !connected;
  $('connect').textContent = client?.active ? 'Disconnect' : 'Connect';
}

function connect() {
  const StompJs = globalThis.StompJs;
  if (StompJs === undefined) {
    setState('error', '@stomp/stompjs did not load');
    return;
  }
  client = new StompJs.Client({
    brokerURL: endpoint,
    connectHeaders: { login: $('login').value, passcode: $('passcode').value },
    heartbeatIncoming: 10000,
    heartbeatOutgoing: 10000,
    reconnectDelay: 2000,
    onConnect: (frame) => {
      setState('connected', `Connected · STOMP ${frame.headers.version ?? ''}`);
      $('status').title = frame.headers.server ?? '';
      // STOMP subscriptions die with the connection; the page keeps them, so it makes them again.
      for (const destination of subscriptions.keys()) subscribe(destination);
    },
    onStompError: (frame) => setState('error', frame.headers.message ?? 'STOMP error'),
    onWebSocketClose: () => {
      // Those subscriptions died with the socket: nothing to unsubscribe from when they are made again.
      for (const destination of subscriptions.keys()) {
        subscriptions.set(destination, undefined);
        markSubscription(destination, 'pending');
      }
      if (client?.active) setState('connecting', 'Reconnecting…');
    },
  });
  client.activate();
  setState('connecting', 'Connecting…');
}

async function disconnect() {
  const c = client;
  client = undefined;
  await c?.deactivate();
  setState('disconnected', 'Disconnected');
}

function subscribe(destination) {
  if (!client?.connected) return;
  subscriptions.get(destination)?.unsubscribe();
  const receipt = `subscribed-${++receipts}`;
  // The receipt tells the page (and its end-to-end test) when the broker has the subscription in place.
  client.watchForReceipt(receipt, () => markSubscription(destination, 'active'));
  subscriptions.set(
    destination,
    client.subscribe(destination, (m) => show(m, destination), { receipt }),
  );
  markSubscription(destination, 'pending');
}

function unsubscribe(destination) {
  if (client?.connected) subscriptions.get(destination)?.unsubscribe();
  subscriptions.delete(destination);
  chipFor(destination)?.remove();
}

function chipFor(destination) {
  return [...$('subscriptions').children].find((li) => li.dataset.destination === destination);
}

function markSubscription(destination, state) {
  let chip = chipFor(destination);
  if (chip === undefined) {
    chip = document.createElement('li');
    chip.dataset.destination = destination;
    const name = document.createElement('span');
    name.textContent = destination;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'quiet';
    remove.textContent = '×';
    remove.title = `Unsubscribe from ${destination}`;
    remove.addEventListener('click', () => unsubscribe(destination));
    chip.append(name, remove);
    $('subscriptions').append(chip);
  }
  chip.dataset.state = state;
}

/** A body as text when it is UTF-8, else as hex: binary bodies arrive intact as binary WebSocket messages. */
function bodyText(message) {
  if (!message.isBinaryBody) return message.body;
  const bytes = message.binaryBody;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const hex = [...bytes.subarray(0, 96)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    return `${bytes.length} bytes: ${hex}${bytes.length > 96 ? ' …' : ''}`;
  }
}

function show(message, subscribedTo) {
  received++;
  $('count').textContent = String(received);
  $('empty').hidden = true;

  const item = document.createElement('li');
  item.className = 'message';
  const meta = document.createElement('div');
  meta.className = 'meta';
  const where = document.createElement('span');
  where.className = 'destination';
  where.textContent = message.headers.destination ?? subscribedTo;
  const when = document.createElement('time');
  when.textContent = new Date().toLocaleTimeString();
  meta.append(where, when);

  const body = document.createElement('pre');
  body.className = 'body';
  body.textContent = bodyText(message);

  const headers = document.createElement('dl');
  headers.className = 'headers';
  for (const [name, value] of Object.entries(message.headers)) {
    const pair = document.createElement('div');
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value;
    pair.append(dt, dd);
    headers.append(pair);
  }

  item.append(meta, body, headers);
  const list = $('messages');
  list.prepend(item);
  while (list.children.length > MAX_SHOWN) list.lastElementChild?.remove();
}

$('connect-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (client?.active) void disconnect();
  else connect();
});

$('subscribe-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const destination = $('sub-destination').value.trim();
  if (destination !== '') subscribe(destination);
});

$('send-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const destination = $('send-destination').value.trim();
  if (destination === '' || !client?.connected) return;
  client.publish({
    destination,
    body: $('send-body').value,
    headers: { 'content-type': $('send-type').value.trim() || 'text/plain' },
  });
});

$('clear').addEventListener('click', () => {
  $('messages').replaceChildren();
  received = 0;
  $('count').textContent = '0';
  $('empty').hidden = false;
});

connect();
