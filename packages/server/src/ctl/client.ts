/**
 * The management HTTP API as `warren ctl` uses it: JSON over HTTP with Basic auth taken from the URL
 * (http://user:pass@host:port), Node's own fetch. Failures become CtlError with rabbitmqctl's exit codes.
 */

/** rabbitmqctl's exit codes (sysexits): the ones `warren ctl` uses. */
export const EXIT = {
  ok: 0,
  usage: 64,
  dataError: 65,
  unavailable: 69,
  software: 70,
  tempFail: 75,
} as const;

export class CtlError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** What an answer other than 2xx said: its status and RabbitMQ's {"error","reason"}. */
export class ApiError extends CtlError {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason, status === 404 ? EXIT.dataError : EXIT.software);
  }
}

export class ManagementClient {
  private readonly base: URL;
  private readonly authorization: string;

  constructor(
    url: string,
    private readonly timeoutMs: number,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CtlError(`not a URL: ${url}`, EXIT.usage);
    }
    const user = decodeURIComponent(parsed.username || 'guest');
    const password = decodeURIComponent(parsed.password || 'guest');
    this.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
    this.base = parsed;
  }

  /** Where the client talks to, without the credentials: for messages. */
  get target(): string {
    return this.base.host;
  }

  get<T = unknown>(path: string, query: Record<string, string> = {}): Promise<T> {
    return this.request<T>('GET', path, undefined, query);
  }

  put(path: string, body: unknown): Promise<unknown> {
    return this.request('PUT', path, body);
  }

  post<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  delete(path: string, headers: Record<string, string> = {}): Promise<unknown> {
    return this.request('DELETE', path, undefined, {}, headers);
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    query: Record<string, string> = {},
    headers: Record<string, string> = {},
  ): Promise<T> {
    const url = new URL(
      path.replace(/^\//, ''),
      this.base.href.endsWith('/') ? this.base : `${this.base.href}/`,
    );
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: this.authorization,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw unreachable(this.target, err);
    }
    const text = await response.text();
    if (!response.ok) throw new ApiError(response.status, reasonOf(response.status, text));
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

/** A URL path segment: vhost '/' is '%2F', as the API wants it. */
export function segment(name: string): string {
  return encodeURIComponent(name);
}

function reasonOf(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { reason?: unknown; error?: unknown };
    const reason = typeof body.reason === 'string' ? body.reason : String(body.error ?? '');
    if (reason !== '') return reason;
  } catch {
    // Not JSON: the status says enough.
  }
  return status === 401 ? 'authentication failed' : `HTTP ${status}`;
}

function unreachable(target: string, err: unknown): CtlError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if ((err as Error).name === 'TimeoutError') {
    return new CtlError(`no answer from the management API at ${target} in time`, EXIT.tempFail);
  }
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return new CtlError(`unable to reach the management API at ${target}: ${why}`, EXIT.unavailable);
}
