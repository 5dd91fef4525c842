import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';

/** One file of the demo page, held in memory: a handful of small files, read once at listener start. */
interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** Where the page loads @stomp/stompjs from (its UMD bundle, which defines globalThis.StompJs). */
export const STOMPJS_PATH = '/vendor/stomp.umd.min.js';

/** The placeholder index.html carries for the WebSocket path, so the page follows `--ws-path`-style config. */
const WS_PATH_MARK = '%WS_PATH%';

/**
 * The demo page: every regular file directly in `dir` (no subdirectories, so no path can escape it), `/` for
 * index.html, and @stomp/stompjs's browser bundle straight from node_modules. No bundler, nothing copied.
 */
export class DemoSite {
  private constructor(private readonly assets: ReadonlyMap<string, Asset>) {}

  static async load(dir: string, wsPath: string): Promise<DemoSite> {
    const assets = new Map<string, Asset>();
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      let body = await readFile(join(dir, entry.name));
      if (entry.name === 'index.html') {
        body = Buffer.from(body.toString('utf8').replaceAll(WS_PATH_MARK, escapeHtml(wsPath)), 'utf8');
        assets.set('/', asset('.html', body));
      }
      assets.set(`/${entry.name}`, asset(extname(entry.name), body));
    }
    const stompjs = stompjsBundle();
    if (stompjs !== undefined) assets.set(STOMPJS_PATH, asset('.js', await readFile(stompjs)));
    return new DemoSite(assets);
  }

  /** Answers a request; false when the path is not one of the page's (the caller answers 404). */
  handle(request: IncomingMessage, response: ServerResponse, pathname: string): boolean {
    const found = this.assets.get(pathname);
    if (found === undefined) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 }).end();
      return true;
    }
    response.writeHead(200, {
      'Content-Type': found.type,
      'Content-Length': found.body.length,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      // Scripts and styles only from here, and the WebSocket back to this host: the page shows message bodies
      // from anyone, so it must never be able to run them.
      'Content-Security-Policy':
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; base-uri 'none'",
      'Referrer-Policy': 'no-referrer',
    });
    response.end(request.method === 'HEAD' ? undefined : found.body);
    return true;
  }
}

function asset(extension: string, body: Buffer): Asset {
  return { type: TYPES[extension] ?? 'application/octet-stream', body };
}

/**
 * The minified UMD bundle next to the file `require` resolves @stomp/stompjs to (bundles/stomp.umd.js); the
 * unminified one if a future layout drops it; undefined if the package is missing (the page then says so).
 */
function stompjsBundle(): string | undefined {
  let main: string;
  try {
    main = require.resolve('@stomp/stompjs');
  } catch {
    return undefined;
  }
  const minified = join(dirname(main), 'stomp.umd.min.js');
  return existsSync(minified) ? minified : main;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
