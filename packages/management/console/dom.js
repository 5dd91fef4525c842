/* global document */
// Building the DOM: every piece of data goes in as a text node or an attribute value, never as HTML, so
// nothing a client named a queue or sent in a header can run in the operator's browser.

/**
 * An element: `h('a', { href, class: 'x', onclick }, 'text', child)`. Props starting with "on" are listeners,
 * `true` is an empty attribute, false/null/undefined leave it out; children may be nodes, strings or arrays.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  el.append(...nodes(children));
  return el;
}

function nodes(children) {
  return children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false);
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren(...nodes(children));
  return el;
}

/** A labelled control: the label wraps it, so clicking the text focuses it and screen readers name it. */
export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', {}, label), control, hint && h('small', {}, hint));
}

export function select(name, options, value) {
  return h(
    'select',
    { name },
    options.map((o) => {
      const [v, text] = Array.isArray(o) ? o : [o, o];
      return h('option', { value: v, selected: v === value }, text);
    }),
  );
}

/**
 * A table in a scrollable region (phones scroll it sideways, the keyboard too: it is focusable).
 * columns: [{ label, cell: (row) => node or text, num?: true }].
 */
export function table(caption, columns, rows, empty = 'Nothing here yet.') {
  const head = h(
    'tr',
    {},
    columns.map((c) => h('th', { scope: 'col', class: c.num && 'num' }, c.label)),
  );
  const body =
    rows.length === 0
      ? [h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty))]
      : rows.map((row) =>
          h(
            'tr',
            {},
            columns.map((c) => h('td', { class: c.num && 'num' }, c.cell(row))),
          ),
        );
  return h(
    'div',
    { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: 0 },
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, head),
      h('tbody', {}, body),
    ),
  );
}

/** A section of a page with its heading. */
export function section(title, ...children) {
  return h('section', { class: 'panel' }, h('h2', {}, title), children);
}

export function button(text, onclick, kind) {
  return h('button', { type: 'button', class: kind, onclick }, text);
}

/** Key-value pairs as a definition list. */
export function pairs(entries) {
  return h(
    'dl',
    { class: 'pairs' },
    entries.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}

const number = new Intl.NumberFormat('en');

export const fmt = {
  num: (n) => (typeof n === 'number' ? number.format(n) : '–'),
  rate: (n) => (typeof n === 'number' ? `${n.toFixed(1)}/s` : '–'),
  bytes(n) {
    if (typeof n !== 'number') return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
  },
  duration(ms) {
    const s = Math.floor(ms / 1000);
    const [d, hr, m] = [Math.floor(s / 86400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60];
    return d > 0 ? `${d}d ${hr}h` : hr > 0 ? `${hr}h ${m}m` : `${m}m ${s % 60}s`;
  },
  /** A field table or arguments object as "k = v" lines; "–" when empty. */
  table(obj) {
    const entries = Object.entries(obj ?? {});
    if (entries.length === 0) return '–';
    return h(
      'ul',
      { class: 'kv' },
      entries.map(([k, v]) =>
        h('li', {}, h('code', {}, k), ' = ', typeof v === 'object' ? JSON.stringify(v) : String(v)),
      ),
    );
  },
};

/** The text of a JSON object input; {} when blank, else it must parse to an object. */
export function jsonObject(text, what) {
  if (text.trim() === '') return {};
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${what} must be a JSON object`);
  return value;
}
