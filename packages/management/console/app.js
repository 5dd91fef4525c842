/* global document, window, history, location, URLSearchParams, clearTimeout */
// Warren's web console: a page per view, chosen by the URL's hash (#/queues/%2F/orders), each built from the
// management API alone. The shell polls the API and asks the current view to redraw its data; forms are built
// once per view, so polling never clobbers what the operator is typing.
import { api, credentials } from './api.js';
import { fill, h } from './dom.js';
import { hasTag, loggedOut, notify, reasonOf, setNavigator, setRefresher, setUser } from './shell.js';
import { overviewView, sampleOverview } from './views/overview.js';
import { connectionsView, channelsView } from './views/connections.js';
import { exchangesView, exchangeView } from './views/exchanges.js';
import { queuesView, queueView } from './views/queues.js';
import { adminView } from './views/admin.js';

/**
 * How often the console polls, in ms: RabbitMQ's 5 s statistics interval, which is also how often the broker's
 * rates change. `?poll=500` polls faster (tests, demos).
 */
const POLL_MS = Math.max(250, Number(new URLSearchParams(location.search).get('poll')) || 5000);

/** Hash routes: the first segment names the view, the rest are its URL-encoded parameters. */
const ROUTES = {
  overview: overviewView,
  connections: connectionsView,
  channels: channelsView,
  exchanges: (params) => (params.length === 2 ? exchangeView(...params) : exchangesView()),
  queues: (params) => (params.length === 2 ? queueView(...params) : queuesView()),
  admin: adminView,
};

const $ = (id) => document.getElementById(id);
let view; // { title, el, refresh(), destroy?() }
let timer;
let polling = false;
/** Bumped by each refresh, so a refresh that an action started mid-poll leaves one timer, not two. */
let generation = 0;

/** Re-reads the current view's data now, and keeps polling from here. */
async function refresh() {
  clearTimeout(timer);
  if (!polling) return;
  const mine = ++generation;
  try {
    await sampleOverview();
    await view?.refresh();
  } catch (err) {
    if (!loggedOut(err)) notify(reasonOf(err), 'error');
  }
  if (polling && mine === generation) timer = setTimeout(refresh, POLL_MS);
}
setRefresher(refresh);

function route() {
  const [name = 'overview', ...params] = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const make = ROUTES[name] ?? overviewView;
  view?.destroy?.();
  view = make(params.map(decodeURIComponent));
  document.title = `${view.title} · Warren`;
  for (const link of document.querySelectorAll('#nav a')) {
    const current = link.getAttribute('href') === `#/${name in ROUTES ? name : 'overview'}`;
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  notify('');
  fill($('main'), view.el);
  void refresh();
}

setNavigator((hash) => {
  history.pushState(null, '', hash);
  route();
});

function showLogin(reason = '') {
  polling = false;
  clearTimeout(timer);
  view?.destroy?.();
  view = undefined;
  fill($('main'));
  $('shell').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = reason;
  $('login-user').focus();
}

async function enter() {
  let user;
  try {
    user = await api('GET', '/api/whoami');
  } catch (err) {
    if (!loggedOut(err)) showLogin(reasonOf(err));
    return;
  }
  setUser(user);
  $('login').hidden = true;
  $('shell').hidden = false;
  fill($('who'), h('strong', {}, user.name), user.tags.length > 0 ? ` (${user.tags.join(', ')})` : '');
  for (const item of document.querySelectorAll('#nav [data-needs]'))
    item.hidden = !hasTag(item.dataset.needs);
  polling = true;
  route();
  $('main').focus();
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  credentials.set($('login-user').value, $('login-password').value);
  $('login-password').value = '';
  void enter();
});
$('logout').addEventListener('click', () => {
  credentials.clear();
  setUser(undefined);
  showLogin();
});
window.addEventListener('warren:unauthorised', (event) => showLogin(event.detail));
window.addEventListener('hashchange', () => polling && route());

if (credentials.get() === undefined) showLogin();
else void enter();
