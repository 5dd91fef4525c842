/* global window, document, Blob, URL */
// Admin: users and their tags, vhosts, permissions, and the definitions export and import. Administrators
// only, as in the API.
import { api, path } from '../api.js';
import { button, field, fill, h, section, select, table } from '../dom.js';
import { act, hasTag } from '../shell.js';

const TAGS = ['administrator', 'monitoring', 'policymaker', 'management'];

export function adminView() {
  if (!hasTag('administrator')) {
    const el = h(
      'div',
      {},
      h('h1', {}, 'Admin'),
      h('p', {}, 'Managing users, vhosts and permissions needs the administrator tag.'),
    );
    return { title: 'Admin', el, refresh: async () => {} };
  }
  const users = h('div');
  const vhosts = h('div');
  const permissions = h('div');
  const userForm = userEditor();
  const vhostForm = vhostEditor();
  const permissionForm = permissionEditor();
  const el = h(
    'div',
    {},
    h('h1', {}, 'Admin'),
    section('Users', users, userForm.el),
    section('Virtual hosts', vhosts, vhostForm),
    section('Permissions', permissions, permissionForm.el),
    section('Definitions', definitions()),
  );
  return {
    title: 'Admin',
    el,
    async refresh() {
      const [u, v, p] = await Promise.all([
        api('GET', '/api/users'),
        api('GET', '/api/vhosts?columns=name'),
        api('GET', '/api/permissions'),
      ]);
      fill(users, userTable(u));
      fill(vhosts, vhostTable(v));
      fill(permissions, permissionTable(p));
      permissionForm.choices(u, v);
    },
  };
}

function userTable(users) {
  const remove = (u) => () => {
    if (!window.confirm(`Delete user ${u.name}? Its connections are closed.`)) return;
    void act(() => api('DELETE', path`/api/users/${u.name}`), `User ${u.name} deleted.`);
  };
  return table(
    'Users',
    [
      { label: 'Name', cell: (u) => u.name },
      { label: 'Tags', cell: (u) => u.tags.join(', ') || '–' },
      { label: 'Password', cell: (u) => (u.password_hash === '' ? 'none (cannot log in with one)' : 'set') },
      { label: '', cell: (u) => button('Delete', remove(u), 'danger small') },
    ],
    users,
  );
}

/** Adds a user, or updates one of that name (RabbitMQ's PUT replaces its password and tags). */
function userEditor() {
  const name = h('input', { name: 'username', required: true, autocomplete: 'off' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password' });
  const tags = h('input', {
    name: 'tags',
    list: 'known-tags',
    autocomplete: 'off',
    placeholder: 'management',
  });
  const known = h(
    'datalist',
    { id: 'known-tags' },
    TAGS.map((t) => h('option', { value: t })),
  );
  const el = h(
    'form',
    { class: 'form', id: 'add-user' },
    h('h3', {}, 'Add or update a user'),
    field('Username', name),
    field('Password', password, 'Leave empty for a user that cannot log in with a password.'),
    field('Tags', tags, `Comma-separated: ${TAGS.join(', ')}.`),
    known,
    h('button', { type: 'submit' }, 'Save user'),
  );
  el.addEventListener('submit', (event) => {
    event.preventDefault();
    const user = name.value;
    const body = {
      tags: tags.value
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
        .join(','),
    };
    if (password.value === '') body.password_hash = '';
    else body.password = password.value;
    void act(async () => {
      await api('PUT', path`/api/users/${user}`, body);
      el.reset();
    }, `User ${user} saved.`);
  });
  return { el };
}

function vhostTable(vhosts) {
  const remove = (v) => () => {
    if (!window.confirm(`Delete vhost ${v.name} and everything in it?`)) return;
    void act(() => api('DELETE', path`/api/vhosts/${v.name}`), `Vhost ${v.name} deleted.`);
  };
  return table(
    'Virtual hosts',
    [
      { label: 'Name', cell: (v) => v.name },
      { label: '', cell: (v) => button('Delete', remove(v), 'danger small') },
    ],
    vhosts,
  );
}

function vhostEditor() {
  const name = h('input', { name: 'vhost', required: true, autocomplete: 'off' });
  const form = h(
    'form',
    { class: 'form inline', id: 'add-vhost' },
    field('New vhost', name),
    h('button', { type: 'submit' }, 'Add vhost'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const vhost = name.value;
    void act(async () => {
      await api('PUT', path`/api/vhosts/${vhost}`, {});
      form.reset();
    }, `Vhost ${vhost} added.`);
  });
  return form;
}

function permissionTable(permissions) {
  const clear = (p) => () =>
    void act(
      () => api('DELETE', path`/api/permissions/${p.vhost}/${p.user}`),
      `Cleared ${p.user}'s permissions on ${p.vhost}.`,
    );
  return table(
    'Permissions',
    [
      { label: 'User', cell: (p) => p.user },
      { label: 'Vhost', cell: (p) => p.vhost },
      { label: 'Configure', cell: (p) => h('code', {}, p.configure) },
      { label: 'Write', cell: (p) => h('code', {}, p.write) },
      { label: 'Read', cell: (p) => h('code', {}, p.read) },
      { label: '', cell: (p) => button('Clear', clear(p), 'secondary small') },
    ],
    permissions,
  );
}

function permissionEditor() {
  const user = h('select', { name: 'user' });
  const vhost = h('select', { name: 'vhost' });
  const regex = (name) => h('input', { name, value: '.*', autocomplete: 'off' });
  const [configure, write, read] = [regex('configure'), regex('write'), regex('read')];
  const el = h(
    'form',
    { class: 'form', id: 'set-permission' },
    h('h3', {}, 'Set permissions'),
    field('User', user),
    field('Vhost', vhost),
    field('Configure regexp', configure),
    field('Write regexp', write),
    field('Read regexp', read),
    h('button', { type: 'submit' }, 'Set permissions'),
  );
  el.addEventListener('submit', (event) => {
    event.preventDefault();
    const [u, v] = [user.value, vhost.value];
    const body = { configure: configure.value, write: write.value, read: read.value };
    void act(() => api('PUT', path`/api/permissions/${v}/${u}`, body), `Set ${u}'s permissions on ${v}.`);
  });
  /** Keeps the choices current without losing what is selected. */
  const choices = (users, vhosts) => {
    for (const [sel, names] of [
      [user, users.map((u) => u.name)],
      [vhost, vhosts.map((v) => v.name)],
    ]) {
      const was = sel.value;
      if ([...sel.options].map((o) => o.value).join('\n') === names.join('\n')) continue;
      fill(sel, [...select('', names, was).children]);
      sel.value = names.includes(was) ? was : (names[0] ?? '');
    }
  };
  return { el, choices };
}

function definitions() {
  const file = h('input', { type: 'file', name: 'definitions', accept: 'application/json,.json' });
  const download = async () => {
    const defs = await api('GET', '/api/definitions');
    const url = URL.createObjectURL(new Blob([JSON.stringify(defs, null, 2)], { type: 'application/json' }));
    const a = h('a', {
      href: url,
      download: `warren-definitions-${new Date().toISOString().slice(0, 10)}.json`,
    });
    document.body.append(a);
    a.click();
    a.remove();
    URL.revokeObjectURL(url);
  };
  const form = h(
    'form',
    { class: 'form', id: 'import-definitions' },
    field('Definitions file (a RabbitMQ or Warren export)', file),
    h('button', { type: 'submit' }, 'Import definitions'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (chosen === undefined) return;
    void act(async () => {
      let defs;
      try {
        defs = JSON.parse(await chosen.text());
      } catch {
        throw new Error(`${chosen.name} is not JSON`);
      }
      await api('POST', '/api/definitions', defs);
      form.reset();
    }, `Imported ${chosen.name}.`);
  });
  return [
    h('p', {}, 'Users, vhosts, permissions, exchanges, queues and bindings, in the format RabbitMQ exports.'),
    h(
      'div',
      { class: 'actions' },
      button('Export definitions', () => void act(download, 'Definitions exported.')),
    ),
    form,
  ];
}
