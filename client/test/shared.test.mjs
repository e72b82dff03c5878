import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createBrowser } = require('./fake-browser.cjs');
const code = readFileSync(new URL('../dist/meta-capi.js', import.meta.url), 'utf8');

// Issue 15, part 2: a page a cache shares between visitors carries no consent and no event IDs; the snippet mints
// each visitor's ID, posts the server copy, and fires the Pixel with the IDs the server took.
const VIEW = { method: 'track', name: 'ViewContent', data: { value: 12.5, currency: 'EUR' }, token: 'sealed-token' };

function sharedPage(reply, { status = 200, declared = [VIEW] } = {}) {
  const dataBlockJson = JSON.stringify({
    v: 1, pixelId: '1', loadPixel: false, cookieDomain: 'example.com', subdomainIndex: 1, shared: true,
    declared, collect: '/_capi/events', events: [{ method: 'track', name: 'Purchase', eventId: 'must-not-fire', data: {} }],
  });
  const b = createBrowser({
    timers: 'manual', now: 1700000000000, url: 'https://www.example.com/products/9', dataBlockJson, fbqPresent: true,
    fetch: (url, init) => {
      const posted = JSON.parse(init.body);
      const answer = typeof reply === 'function' ? reply(posted) : reply;
      return { ok: status === 200, json: () => Promise.resolve(answer) };
    },
  });
  b.run(code);
  assert.deepEqual(b.errors, []);
  return b;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('shared page: the Pixel waits revoked, the server copy is posted with a minted ID, and the Pixel fires with it', async () => {
  const b = sharedPage((posted) => ({ consent: true, accepted: posted.events.map((e) => e.id) }));
  assert.deepEqual(b.clean(b.fbqCalls[0]), ['consent', 'revoke']);
  assert.ok(!b.jar.entries().length, 'no cookie before the server says the visitor may be tracked');
  await settle();

  const post = b.fetches[0];
  assert.equal(post.url, '/_capi/events');
  assert.equal(post.init.method, 'POST');
  assert.equal(post.init.credentials, 'same-origin');
  const sent = JSON.parse(post.init.body);
  assert.equal(sent.events.length, 1);
  assert.match(sent.events[0].id, /^[0-9a-f]{32}$/);
  assert.equal(sent.events[0].token, 'sealed-token');

  assert.ok(b.fbqCalls.some((c) => c[0] === 'consent' && c[1] === 'grant'));
  const view = b.fbqCalls.find((c) => c[1] === 'ViewContent');
  assert.deepEqual(b.clean(view), ['track', 'ViewContent', { value: 12.5, currency: 'EUR' }, { eventID: sent.events[0].id }]);
  assert.ok(!b.fbqCalls.some((c) => c[1] === 'Purchase'), 'the rendered events of a shared page are never fired');
  assert.ok(b.jar.entries().some((c) => c.name === '_fbp'), 'cookies once consent is known');
});

test('shared page: without consent, or when the server refuses, nothing fires', async () => {
  for (const b of [sharedPage({ consent: false, accepted: [] }), sharedPage(null, { status: 403 }), sharedPage({ consent: true, accepted: [] })]) {
    await settle();
    assert.ok(!b.fbqCalls.some((c) => c[1] === 'ViewContent'));
    assert.deepEqual(b.errors, []);
  }
});

test('shared page without declared events still asks whether the visitor may be tracked', async () => {
  const b = sharedPage({ consent: true, accepted: [] }, { declared: [] });
  await settle();
  assert.deepEqual(JSON.parse(b.fetches[0].init.body).events, []);
  assert.ok(b.fbqCalls.some((c) => c[0] === 'consent' && c[1] === 'grant'));
});
