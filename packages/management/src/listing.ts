import { ApiError, badRequest } from './errors';

/** A list endpoint's query string: RabbitMQ's columns, sort and pagination parameters. */
export interface ListQuery {
  columns?: string;
  sort?: string;
  sort_reverse?: string;
  page?: string;
  page_size?: string;
  name?: string;
  use_regex?: string;
}

/** RabbitMQ's paged envelope, field for field. */
export interface Page<T> {
  filtered_count: number;
  item_count: number;
  items: T[];
  page: number;
  page_count: number;
  page_size: number;
  total_count: number;
}

export type Item = Record<string, unknown>;

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 500;

/**
 * Applies a list query to items already in their API shape: filter by name, sort, page, then cut to the
 * requested columns (after sorting, so a sort key need not be a column). Without `page` the answer is the
 * plain array, as RabbitMQ's. Sorting is the only super-linear step, O(n log n) with keys read once.
 */
export function applyListQuery(
  items: Item[],
  query: ListQuery,
  defaultSort: readonly string[] = ['name'],
): Item[] | Page<Item> {
  const paging = pagingOf(query);
  const filtered = paging === undefined ? items : items.filter(nameFilter(query));
  const sorted = sortItems(
    filtered,
    query.sort === undefined || query.sort === '' ? defaultSort : [query.sort],
    query.sort_reverse === 'true',
  );
  if (paging === undefined) return project(sorted, query.columns);
  const { page, pageSize } = paging;
  const pageCount = Math.ceil(sorted.length / pageSize);
  if (page > 1 && page > pageCount) {
    throw new ApiError(
      400,
      'page_out_of_range',
      `Page out of range, page: ${page} page size: ${pageSize}, len: ${sorted.length}`,
    );
  }
  const slice = sorted.slice((page - 1) * pageSize, page * pageSize);
  return {
    filtered_count: sorted.length,
    item_count: slice.length,
    items: project(slice, query.columns),
    page,
    page_count: pageCount,
    page_size: pageSize,
    total_count: items.length,
  };
}

/** One object cut to the requested columns (GET /api/overview?columns=... works too). */
export function projectOne(item: Item, columns: string | undefined): Item {
  return project([item], columns)[0] as Item;
}

function pagingOf(query: ListQuery): { page: number; pageSize: number } | undefined {
  if (query.page === undefined) return undefined;
  const page = Number(query.page);
  const pageSize = query.page_size === undefined ? DEFAULT_PAGE_SIZE : Number(query.page_size);
  if (!Number.isInteger(page) || !Number.isInteger(pageSize))
    throw badRequest('Pagination parameters are invalid');
  if (page < 1 || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new ApiError(
      400,
      'invalid_pagination_parameters',
      `Invalid pagination parameters: page number ${page}, page size ${pageSize}`,
    );
  }
  return { page, pageSize };
}

/** `name` matches as a case-insensitive substring, or as a regular expression with use_regex=true. */
function nameFilter(query: ListQuery): (item: Item) => boolean {
  const filter = query.name ?? '';
  if (filter === '') return () => true;
  if (query.use_regex === 'true') {
    let re: RegExp;
    try {
      re = new RegExp(filter, 'i');
    } catch {
      // RabbitMQ answers a regular expression it cannot compile with an empty page.
      return () => false;
    }
    return (item) => re.test(String(item['name'] ?? ''));
  }
  const needle = filter.toLowerCase();
  return (item) =>
    String(item['name'] ?? '')
      .toLowerCase()
      .includes(needle);
}

function sortItems(items: Item[], keys: readonly string[], reverse: boolean): Item[] {
  const paths = keys.map((k) => k.split('.'));
  const keyed = items.map((item) => ({ item, keys: paths.map((p) => valueAt(item, p)) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < paths.length; i++) {
      const c = compare(a.keys[i], b.keys[i]);
      if (c !== 0) return reverse ? -c : c;
    }
    return 0;
  });
  return keyed.map((k) => k.item);
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  // Missing values sort first, as undefined sorts before anything in Erlang's term order for these lists.
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function valueAt(item: unknown, path: readonly string[]): unknown {
  let value = item;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Item)[part];
  }
  return value;
}

/** `columns=name,message_stats.publish`: each dotted path is copied into a nested object of the same shape. */
function project(items: Item[], columns: string | undefined): Item[] {
  if (columns === undefined || columns === '') return items;
  const paths = columns
    .split(',')
    .filter((c) => c !== '')
    .map((c) => c.split('.'));
  return items.map((item) => {
    const out: Item = {};
    for (const path of paths) {
      const value = valueAt(item, path);
      if (value === undefined) continue;
      let target = out;
      for (const part of path.slice(0, -1)) {
        target[part] ??= {};
        target = target[part] as Item;
      }
      target[path[path.length - 1] as string] = value;
    }
    return out;
  });
}
