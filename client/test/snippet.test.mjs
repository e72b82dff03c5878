import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createBrowser } = require('./fake-browser.cjs');
const code = readFileSync(new URL('../dist/meta-capi.js', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const PURCHASE = {
  method: 'track',
  name: 'Purchase',
  eventId: 'ord-1001',
  data: {
    value: 42.5, currency: 'USD', order_id: 'ord-1001', content_ids: ['p1'],
    contents: [{ id: 'p1', quantity: 1, item_price: 42.5 }], content_type: 'product', num_items: 1,
  },
};
const CUSTOM = { method: 'trackCustom', name: 'WishlistShared', eventId: 'evt-2', data: {} };

function block(overrides = {}) {
  return JSON.stringify({
    v: 1, pixelId: '1234567890', loadPixel: false, cookieDomain: null, subdomainIndex: 1,
    events: [PURCHASE, CUSTOM], ...overrides,
  });
}

function page(options = {}) {
  const b = createBrowser({ timers: 'manual', now: 1700000000000, ...options });
  b.run(code);
  return b;
}

function noErrors(b) {
  assert.deepEqual(b.errors, []);
}

test('fires the data block events exactly as given, in order, with eventID', () => {
  const b = page({ dataBlockJson: block(), fbqPresent: true });
  assert.deepEqual(b.clean(b.fbqCalls), [
    ['track', 'Purchase', PURCHASE.data, { eventID: 'ord-1001' }],
    ['trackCustom', 'WishlistShared', {}, { eventID: 'evt-2' }],
  ]);
  assert.equal(b.appended.length, 0, 'no Pixel script when loadPixel is false');
  assert.equal(b.timers.pending(), 0);
  noErrors(b);
  assert.deepEqual(b.warnings, []);
});

test('block events with a missing method or data are completed; nameless ones skipped', () => {
  const b = page({
    fbqPresent: true,
    dataBlockJson: block({ events: [{ name: 'Lead', eventId: 'a' }, { name: 'Xyz', eventId: 'b', data: 5 }, { eventId: 'c' }, null] }),
  });
  assert.deepEqual(b.clean(b.fbqCalls), [
    ['track', 'Lead', {}, { eventID: 'a' }],
    ['trackCustom', 'Xyz', {}, { eventID: 'b' }],
  ]);
  noErrors(b);
});

test('track() picks track for standard names and trackCustom for others, returns the ID', () => {
  const b = page({ fbqPresent: true });
  const api = b.window.metaCapi;
  const id1 = api.track('AddToCart', { value: 3, currency: 'EUR' });
  const id2 = api.track('PromoBannerClick');
  const id3 = api.track('purchase', { value: 1 });
  for (const id of [id1, id2, id3]) assert.match(id, /^[0-9a-f]{32}$/);
  assert.deepEqual(b.clean(b.fbqCalls), [
    ['track', 'AddToCart', { value: 3, currency: 'EUR' }, { eventID: id1 }],
    ['trackCustom', 'PromoBannerClick', {}, { eventID: id2 }],
    ['trackCustom', 'purchase', { value: 1 }, { eventID: id3 }],
  ]);
  noErrors(b);
});

test('all 18 standard events go out as track', () => {
  const names = ['PageView', 'ViewContent', 'Search', 'AddToCart', 'AddToWishlist', 'InitiateCheckout',
    'AddPaymentInfo', 'Purchase', 'Lead', 'CompleteRegistration', 'Contact', 'CustomizeProduct', 'Donate',
    'FindLocation', 'Schedule', 'StartTrial', 'SubmitApplication', 'Subscribe'];
  const b = page({ fbqPresent: true });
  for (const n of names) b.window.metaCapi.track(n);
  assert.deepEqual(b.fbqCalls.map((c) => c[0]), names.map(() => 'track'));
});

test('event IDs are unique and URL-safe', () => {
  const b = page({ fbqPresent: true });
  const ids = new Set();
  for (let i = 0; i < 2000; i++) ids.add(b.window.metaCapi.newEventId());
  assert.equal(ids.size, 2000);
  for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
});

test('waits for a late fbq and then delivers everything in order', () => {
  const b = page({ dataBlockJson: block() });
  const early = b.window.metaCapi.track('Lead', { x: 1 });
  assert.deepEqual(b.fbqCalls, []);
  b.timers.advance(3000);
  assert.deepEqual(b.fbqCalls, []);
  b.installFbq();
  b.timers.advance(100);
  assert.deepEqual(b.clean(b.fbqCalls), [
    ['track', 'Purchase', PURCHASE.data, { eventID: 'ord-1001' }],
    ['trackCustom', 'WishlistShared', {}, { eventID: 'evt-2' }],
    ['track', 'Lead', { x: 1 }, { eventID: early }],
  ]);
  assert.equal(b.timers.pending(), 0, 'polling stops once delivered');
  // Later calls go straight through.
  const late = b.window.metaCapi.track('Contact');
  assert.deepEqual(b.clean(b.fbqCalls.at(-1)), ['track', 'Contact', {}, { eventID: late }]);
  noErrors(b);
});

test('gives up silently after about 10 seconds without fbq', () => {
  const b = page({ dataBlockJson: block() });
  b.timers.advance(10100);
  assert.equal(b.timers.pending(), 0, 'no timer left');
  b.installFbq();
  b.timers.advance(1000);
  assert.deepEqual(b.fbqCalls, []);
  noErrors(b);
  assert.deepEqual(b.warnings, []);
  // A later track() waits afresh.
  delete b.window.fbq;
  const id = b.window.metaCapi.track('Search');
  b.timers.advance(200);
  b.installFbq();
  b.timers.advance(100);
  assert.deepEqual(b.clean(b.fbqCalls), [['track', 'Search', {}, { eventID: id }]]);
});

test('loadPixel installs the queue stub: init, PageView, then the events, and loads fbevents.js', () => {
  const b = page({ dataBlockJson: block({ loadPixel: true }), nonce: 'n0nce' });
  const fbq = b.window.fbq;
  assert.equal(typeof fbq, 'function');
  assert.equal(fbq.push, fbq);
  assert.equal(fbq.loaded, true);
  assert.equal(fbq.version, '2.0');
  assert.equal(b.window._fbq, fbq);
  assert.deepEqual(b.clean(fbq.queue.map((a) => Array.from(a))), [
    ['init', '1234567890'],
    ['track', 'PageView'],
    ['track', 'Purchase', PURCHASE.data, { eventID: 'ord-1001' }],
    ['trackCustom', 'WishlistShared', {}, { eventID: 'evt-2' }],
  ]);
  assert.equal(b.appended.length, 1);
  const s = b.appended[0];
  assert.equal(s.tagName, 'SCRIPT');
  assert.equal(s.src, 'https://connect.facebook.net/en_US/fbevents.js');
  assert.equal(s.async, true);
  assert.equal(s.getAttribute('nonce'), 'n0nce');
  // Once fbevents.js takes over (callMethod), calls go to it.
  const seen = [];
  fbq.callMethod = function () {
    seen.push(Array.from(arguments));
  };
  const id = b.window.metaCapi.track('Lead');
  assert.deepEqual(b.clean(seen), [['track', 'Lead', {}, { eventID: id }]]);
  noErrors(b);
});

test('several pixels: loadPixel inits each of pixelIds once, then PageView', () => {
  const b = page({ dataBlockJson: block({ loadPixel: true, pixelIds: ['111', '222', 'not-a-pixel'], events: [] }) });
  assert.deepEqual(b.clean(b.window.fbq.queue.map((a) => Array.from(a))), [
    ['init', '111'],
    ['init', '222'],
    ['track', 'PageView'],
  ]);
  noErrors(b);
});

test('an event the server sent to some pixels only is fired with trackSingle for each of them', () => {
  const b = page({
    fbqPresent: true,
    dataBlockJson: block({
      pixelIds: ['111', '222'],
      events: [{ ...PURCHASE, pixelIds: ['222'] }, { ...CUSTOM, pixelIds: ['111', 'x', '222'] }],
    }),
  });
  assert.deepEqual(b.clean(b.fbqCalls), [
    ['trackSingle', '222', 'Purchase', PURCHASE.data, { eventID: 'ord-1001' }],
    ['trackSingleCustom', '111', 'WishlistShared', {}, { eventID: 'evt-2' }],
    ['trackSingleCustom', '222', 'WishlistShared', {}, { eventID: 'evt-2' }],
  ]);
  noErrors(b);
});

test('loadPixel keeps an existing _fbq', () => {
  const b = createBrowser({ timers: 'manual', dataBlockJson: block({ loadPixel: true }) });
  const existing = { mine: true };
  b.window._fbq = existing;
  b.run(code);
  assert.equal(b.window._fbq, existing);
});

test('loadPixel with an existing fbq does not init again or load the script', () => {
  const b = page({ dataBlockJson: block({ loadPixel: true }), fbqPresent: true });
  assert.deepEqual(b.fbqCalls.map((c) => c.slice(0, 2)), [['track', 'Purchase'], ['trackCustom', 'WishlistShared']]);
  assert.equal(b.appended.length, 0);
});

test('loadPixel without a pixelId does not install anything and waits for fbq', () => {
  const b = page({ dataBlockJson: block({ loadPixel: true, pixelId: null }) });
  assert.equal(b.window.fbq, undefined);
  assert.equal(b.appended.length, 0);
  b.installFbq();
  b.timers.advance(60);
  assert.equal(b.fbqCalls.length, 2);
});

test('waits for DOMContentLoaded while the document is loading', () => {
  const b = page({ dataBlockJson: block(), fbqPresent: true, readyState: 'loading' });
  assert.deepEqual(b.fbqCalls, []);
  assert.equal(typeof b.window.metaCapi.track, 'function', 'API is there before DOMContentLoaded');
  b.domContentLoaded();
  assert.equal(b.fbqCalls.length, 2);
  noErrors(b);
});

test('included twice fires once and keeps one API object', () => {
  const b = page({ dataBlockJson: block({ loadPixel: true }) });
  const api = b.window.metaCapi;
  b.run(code);
  b.run(code);
  assert.equal(b.window.metaCapi, api);
  assert.equal(b.window.fbq.queue.length, 4);
  assert.equal(b.appended.length, 1);
  assert.equal(b.cookieWrites.length, 1, 'only the first copy mints _fbp');
  noErrors(b);
});

test('eventHeaders, newEventId, version and the API keys', () => {
  const b = page({ fbqPresent: true });
  const api = b.window.metaCapi;
  assert.deepEqual(Object.keys(api), ['track', 'eventHeaders', 'newEventId', 'consent', 'version']);
  assert.deepEqual(b.clean(api.eventHeaders('ord-1001')), { 'X-Meta-Event-Id': 'ord-1001' });
  const id = api.track('Purchase', { value: 1, currency: 'USD' });
  assert.deepEqual(b.clean(api.eventHeaders(id)), { 'X-Meta-Event-Id': id });
  assert.deepEqual(b.clean(api.eventHeaders(undefined)), {});
  assert.equal(api.version, pkg.version);
  assert.match(api.newEventId(), /^[0-9a-f]{32}$/);
});

test('a missing data block: no Pixel, no events, _fbp with subdomain index 1', () => {
  const b = page({ dataBlockJson: null, url: 'https://www.shop.example.com/' });
  assert.equal(b.window.fbq, undefined);
  assert.deepEqual(b.fbqCalls, []);
  assert.match(b.cookies()._fbp, /^fb\.1\.1700000000000\.\d+$/);
  noErrors(b);
});

test('malformed data blocks never throw', () => {
  const bad = ['{not json', '', 'null', '42', '"str"', '[]', '{"events":"nope"}', '{"events":[1,"x",null,{}]}',
    '{"events":null,"subdomainIndex":"7","cookieDomain":5,"loadPixel":"yes","pixelId":1}'];
  for (const json of bad) {
    const b = page({ dataBlockJson: json, fbqPresent: true, url: 'https://shop.example.com/?fbclid=Zz' });
    noErrors(b);
    assert.deepEqual(b.fbqCalls, [], json);
    assert.ok(b.warnings.length <= 1, 'at most one warning');
    for (const w of b.warnings) assert.match(w, /^\[meta-capi\] /);
    assert.equal(typeof b.window.metaCapi.track('Lead'), 'string');
    assert.match(b.cookies()._fbp, /^fb\.1\.\d+\.\d+$/, 'cookies still handled with defaults');
    assert.match(b.cookies()._fbc, /^fb\.1\.\d+\.Zz$/);
  }
});

test('a throwing fbq does not throw into the page and later calls still go out', () => {
  const b = page({ dataBlockJson: block(), fbqPresent: true, fbqThrows: true });
  assert.equal(b.fbqCalls.length, 2, 'both block events were attempted');
  const id = b.window.metaCapi.track('Lead');
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(b.fbqCalls.length, 3);
  noErrors(b);
  assert.equal(b.warnings.length, 1, 'warned once only');
  assert.match(b.warnings[0], /^\[meta-capi\] fbq exploded/);
});

test('a fbq getter that throws, document.cookie that throws, and no crypto are all survived', () => {
  const b = createBrowser({ timers: 'manual', dataBlockJson: block(), cookieThrows: true, crypto: false });
  Object.defineProperty(b.window, 'fbq', {
    configurable: true,
    get() {
      throw new Error('nope');
    },
  });
  b.run(code);
  const id = b.window.metaCapi.track('Lead');
  assert.match(id, /^[0-9a-f]{32}$/);
  b.timers.advance(11000);
  noErrors(b);
  assert.ok(b.warnings.length <= 1);
});

test('without crypto, IDs still come out (Math.random fallback) and _fbp is minted', () => {
  const b = page({ fbqPresent: true, crypto: false });
  const ids = new Set();
  for (let i = 0; i < 200; i++) ids.add(b.window.metaCapi.newEventId());
  assert.equal(ids.size, 200);
  for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
  assert.match(b.cookies()._fbp, /^fb\.1\.1700000000000\.\d+$/);
  noErrors(b);
});

test('a console that throws is survived too', () => {
  const b = createBrowser({ timers: 'manual', dataBlockJson: '{bad', fbqPresent: true });
  b.window.console = { warn() { throw new Error('console'); } };
  b.run(code);
  assert.equal(typeof b.window.metaCapi.track('Lead'), 'string');
  noErrors(b);
});

test('the ES module build exports the same API and does nothing without a window', async () => {
  const mod = await import(new URL('../dist/meta-capi.mjs', import.meta.url));
  const api = mod.default;
  assert.deepEqual(Object.keys(api), ['track', 'eventHeaders', 'newEventId', 'consent', 'version']);
  assert.equal(api.version, pkg.version);
  assert.match(api.newEventId(), /^[0-9a-f]{32}$/);
  assert.match(api.track('Purchase', { value: 1 }), /^[0-9a-f]{32}$/);
  assert.equal(globalThis.metaCapi, undefined);
});
