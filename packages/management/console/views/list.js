/* global URLSearchParams */
// A listing of an API collection, a page at a time as RabbitMQ's UI asks for it (page, page_size and a name
// filter), so a broker with ten thousand queues sends the browser a hundred.
import { api } from '../api.js';
import { button, fill, h, table } from '../dom.js';

const PAGE_SIZE = 100;

/**
 * A filter box, the table and a pager. `columns` as for table(); `onItems` sees each page's items (the
 * connections view derives its rates from them).
 */
export function listing(base, caption, columns, onItems) {
  let page = 1;
  let filter = '';
  let refresh;
  const search = h('input', { type: 'search', name: 'filter', placeholder: 'Filter by name' });
  search.addEventListener('input', () => {
    filter = search.value;
    page = 1;
    void refresh();
  });
  const body = h('div');
  const pager = h('div', { class: 'pager' });
  const turn = (delta) => () => {
    page += delta;
    void refresh();
  };
  refresh = async () => {
    const query = new URLSearchParams({
      page: String(page),
      page_size: String(PAGE_SIZE),
      name: filter,
      sort: 'name',
    });
    let result;
    try {
      result = await api('GET', `${base}?${query}`);
    } catch (err) {
      // The last page emptied since it was shown (objects deleted): start again from the first.
      if (err.error !== 'page_out_of_range') throw err;
      page = 1;
      return refresh();
    }
    onItems?.(result.items);
    fill(body, table(caption, columns, result.items, filter === '' ? 'None yet.' : 'None match the filter.'));
    const shown = result.filtered_count === result.total_count ? '' : ` (of ${result.total_count})`;
    fill(
      pager,
      h('span', {}, `${result.filtered_count} ${caption.toLowerCase()}${shown}`),
      result.page_count > 1 && [
        button('Previous', turn(-1), 'secondary'),
        h('span', {}, `page ${result.page} of ${result.page_count}`),
        button('Next', turn(1), 'secondary'),
      ],
    );
    for (const [b, disabled] of [
      [pager.querySelector('button:first-of-type'), page <= 1],
      [pager.querySelector('button:last-of-type'), page >= result.page_count],
    ]) {
      if (b !== null) b.disabled = disabled;
    }
  };
  const label = h(
    'label',
    { class: 'filter' },
    h('span', { class: 'visually-hidden' }, `Filter ${caption.toLowerCase()}`),
    search,
  );
  return { el: h('div', {}, label, body, pager), refresh: () => refresh() };
}
