import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The console's own files: plain HTML, CSS and ES modules, no build step. */
export const CONSOLE_DIR = join(__dirname, '..', 'console');

/**
 * Libraries the page loads, served from node_modules so `npm ci` brings them and nothing is copied into the
 * repo: the URL the page asks for, the package file, and its content type.
 */
const VENDORED = [
  ['/vendor/uplot.min.js', 'uplot/dist/uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
  ['/vendor/uplot.min.css', 'uplot/dist/uPlot.min.css', 'text/css; charset=utf-8'],
] as const;

/**
 * Everything the page fetches comes from this origin, and no other site may frame it (a console that acts
 * with the operator's credentials must not be clickjacked). uPlot styles through the CSSOM, which CSP allows.
 */
const HEADERS = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // The files are not fingerprinted, so a browser must revalidate each time (a cheap 304 by ETag) or it
  // would keep running an old console against a newer broker.
  'Cache-Control': 'no-cache',
};

/**
 * The web console at `/`: the files of console/ (routes for exactly those files, taken at start: no directory
 * listing, no path outside the folder) and the vendored chart library. The page itself needs no
 * authentication; every /api call it makes does.
 */
export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: CONSOLE_DIR,
    prefix: '/',
    wildcard: false,
    list: false,
    index: ['index.html'],
    cacheControl: false,
    setHeaders: (res) => {
      for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value);
    },
  });
  for (const [url, file, type] of VENDORED) {
    // Read once: the libraries cannot change under a running broker. The ETag lets a revalidation be a 304.
    const body = await readFile(require.resolve(file));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    app.get(url, (request, reply) => {
      reply.headers(HEADERS).header('ETag', etag);
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type(type).send(body);
    });
  }
}
