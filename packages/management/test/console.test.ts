import { Broker } from '@warren/core';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createManagementApp } from '../src';

/** The console's files over real HTTP: what a browser gets for each, and what it never gets. */
let broker: Broker;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  broker = new Broker();
  await broker.start();
  ({ app } = createManagementApp({ broker, productVersion: '9.9.9' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app.close();
  await broker.close();
});

it.each([
  ['/', 'text/html'],
  ['/index.html', 'text/html'],
  ['/app.js', 'javascript'],
  ['/views/queues.js', 'javascript'],
  ['/style.css', 'text/css'],
  ['/favicon.svg', 'image/svg+xml'],
  ['/vendor/uplot.min.js', 'text/javascript'],
  ['/vendor/uplot.min.css', 'text/css'],
])('serves %s as %s without a login, revalidated and same-origin only', async (path, type) => {
  const res = await fetch(`${base}${path}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain(type);
  expect(res.headers.get('cache-control')).toBe('no-cache');
  expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  const etag = res.headers.get('etag');
  expect(etag).toBeTruthy();
  // A revalidation is a 304 without the body. (Cache-Control as a browser's revalidation sends it: without
  // it, fetch itself would add "no-cache", which asks for the full file.)
  const again = await fetch(`${base}${path}`, {
    headers: { 'If-None-Match': etag as string, 'Cache-Control': 'max-age=0' },
  });
  expect(again.status).toBe(304);
});

it('loads uPlot from node_modules, not a copy in the repo', async () => {
  const text = await (await fetch(`${base}/vendor/uplot.min.js`)).text();
  expect(text).toContain('uPlot');
});

it.each(['/views/', '/views', '/nope.js', '/../package.json', '/%2e%2e/package.json', '/vendor/'])(
  'answers %s with the API 404: no directory listing, nothing outside console/',
  async (path) => {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'Object Not Found', reason: 'Not Found' });
  },
);

it('still guards the API: /api without credentials is 401', async () => {
  const res = await fetch(`${base}/api/overview`);
  expect(res.status).toBe(401);
});
