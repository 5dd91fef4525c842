/* global sessionStorage, fetch, btoa, TextEncoder, window, CustomEvent */
// The console's one way to the broker: the management API with HTTP Basic credentials on every request, as
// RabbitMQ's own UI does. The credentials live in sessionStorage, so they go when the tab closes.

const KEY = 'warren.credentials';

/** What the API answered with instead of success: its status and RabbitMQ's `reason`. */
export class ApiError extends Error {
  constructor(status, error, reason) {
    super(reason);
    this.name = 'ApiError';
    this.status = status;
    this.error = error;
  }
}

export const credentials = {
  /** @returns {{ username: string, password: string } | undefined} */
  get() {
    const stored = sessionStorage.getItem(KEY);
    return stored === null ? undefined : JSON.parse(stored);
  },
  set(username, password) {
    sessionStorage.setItem(KEY, JSON.stringify({ username, password }));
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

/** btoa takes Latin-1 only; a user name or password may be any UTF-8, which is what the broker decodes. */
function basic({ username, password }) {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/**
 * A request to the API; resolves to the parsed JSON (undefined for an empty body) or rejects with an
 * ApiError. A 401 also drops the credentials and tells the app, which goes back to the login form.
 */
export async function api(method, path, body, headers = {}) {
  const login = credentials.get();
  const res = await fetch(path, {
    method,
    // 'omit': the browser must not answer the API's WWW-Authenticate challenge with its own Basic-auth popup;
    // the console sends its Authorization header itself and handles a 401 with its login form.
    credentials: 'omit',
    headers: {
      ...(login === undefined ? {} : { Authorization: basic(login) }),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = parse(text);
  if (res.ok) return data;
  const reason = data?.reason ?? (res.statusText || `HTTP ${res.status}`);
  if (res.status === 401) {
    credentials.clear();
    window.dispatchEvent(new CustomEvent('warren:unauthorised', { detail: reason }));
  }
  throw new ApiError(res.status, data?.error, String(reason));
}

function parse(text) {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A path with every substituted value URL-encoded: path`/api/queues/${vhost}/${name}`. */
export function path(strings, ...values) {
  return strings.reduce(
    (out, s, i) => out + s + (i < values.length ? encodeURIComponent(values[i]) : ''),
    '',
  );
}
