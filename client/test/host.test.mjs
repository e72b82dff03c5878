// The Node host the C# tests call through Jering.Javascript.NodeJS (callback-style exports).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const host = require('../../tests/CapiMiddleware.Tests/Client/snippet-host.cjs');
const snippetPath = fileURLToPath(new URL('../dist/meta-capi.js', import.meta.url));

const call = (fn, options) => new Promise((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result)), options));

const dataBlockJson = JSON.stringify({
  v: 1, pixelId: '1234567890', loadPixel: true, cookieDomain: 'example.com', subdomainIndex: 1,
  events: [{ method: 'track', name: 'Purchase', eventId: 'ord-1001', data: { value: 42.5, currency: 'USD' } }],
});

test('run(): the stub queue, the cookie jar and the API, JSON-clean', async () => {
  const r = await call(host.run, {
    snippetPath, dataBlockJson, url: 'https://shop.example.com/products/1?fbclid=AbC',
    cookie: '_fbp=fb.1.1700000000000.123', fbqPresent: false, waitMs: 10,
  });
  assert.deepEqual(r.fbqCalls, [
    ['init', '1234567890'],
    ['track', 'PageView'],
    ['track', 'Purchase', { value: 42.5, currency: 'USD' }, { eventID: 'ord-1001' }],
  ]);
  assert.equal(r.cookies._fbp, 'fb.1.1700000000000.123');
  assert.match(r.cookies._fbc, /^fb\.1\.\d{13}\.AbC$/);
  assert.equal(r.cookieWrites.length, 1);
  assert.match(r.cookieWrites[0], /^_fbc=fb\.1\.\d+\.AbC; path=\/; max-age=7776000; samesite=lax; secure; domain=example\.com$/);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.api, ['track', 'eventHeaders', 'newEventId', 'consent', 'version']);
  assert.equal(JSON.stringify(JSON.parse(JSON.stringify(r))), JSON.stringify(r));
});

test('run(): with the page\'s own fbq and no data block', async () => {
  const r = await call(host.run, { snippetPath, dataBlockJson: null, url: 'http://localhost/', cookie: '', fbqPresent: true });
  assert.deepEqual(r.fbqCalls, []);
  assert.match(r.cookies._fbp, /^fb\.1\.\d+\.\d+$/);
  assert.deepEqual(r.errors, []);
});

test('track(): returns the ID, its header and the fbq call', async () => {
  const r = await call(host.track, {
    snippetPath, dataBlockJson: null, url: 'https://shop.example.com/', cookie: '', fbqPresent: true,
    name: 'Lead', data: { value: 1 }, waitMs: 0,
  });
  assert.match(r.eventId, /^[0-9a-f]{32}$/);
  assert.deepEqual(r.headers, { 'X-Meta-Event-Id': r.eventId });
  assert.deepEqual(r.fbqCalls, [['track', 'Lead', { value: 1 }, { eventID: r.eventId }]]);
});

test('errors reach the callback instead of being thrown', async () => {
  await assert.rejects(call(host.run, { snippetPath: '/nonexistent/meta-capi.js' }), /ENOENT/);
});
