import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createBrowser } = require('./fake-browser.cjs');
const code = readFileSync(new URL('../dist/meta-capi.js', import.meta.url), 'utf8');

const PURCHASE = { method: 'track', name: 'Purchase', eventId: 'ord-1001', data: { value: 5, currency: 'USD' } };

function page(block, options = {}) {
  const b = createBrowser({ timers: 'manual', now: 1700000000000, dataBlockJson: JSON.stringify(block), ...options });
  b.run(code);
  return b;
}

const body = (b) => JSON.parse(b.beacons[0].data);

test('with the Pixel blocked (the queue stub never gets a callMethod), the beacon says blocked, with the page event IDs', () => {
  const b = page({ v: 1, pixelId: '1', pixelIds: ['1'], loadPixel: true, events: [PURCHASE], beacon: '/_capi/beacon' });
  b.timers.advance(2999);
  assert.equal(b.beacons.length, 0, 'waits for fbevents.js first');
  const id = b.window.metaCapi.track('Lead');
  b.timers.advance(1);
  assert.equal(b.beacons.length, 1);
  assert.equal(b.beacons[0].url, '/_capi/beacon');
  assert.deepEqual(body(b), { v: 1, blocked: true, ids: ['ord-1001', id] });
  b.timers.advance(60000);
  b.pageHide();
  assert.equal(b.beacons.length, 1, 'once per page view');
  assert.deepEqual(b.errors, []);
});

test('once fbevents.js has taken over the stub, the beacon says not blocked', () => {
  const b = page({ v: 1, pixelIds: ['1'], loadPixel: true, events: [PURCHASE], beacon: '/_capi/beacon' });
  b.window.fbq.callMethod = function () {};
  b.timers.advance(3000);
  assert.deepEqual(body(b), { v: 1, blocked: false, ids: ['ord-1001'] });
});

test('a Pixel the page loaded itself counts as loaded; no fbq at all counts as blocked', () => {
  const loaded = page({ v: 1, events: [], beacon: '/_capi/beacon' }, { fbqPresent: true });
  loaded.timers.advance(3000);
  assert.equal(body(loaded).blocked, false);

  const none = page({ v: 1, events: [PURCHASE], beacon: '/_capi/beacon' });
  none.timers.advance(3000);
  assert.equal(body(none).blocked, true);
});

test('leaving the page early reports at pagehide', () => {
  const b = page({ v: 1, events: [PURCHASE], beacon: '/_capi/beacon' }, { fbqPresent: true });
  b.pageHide();
  assert.deepEqual(body(b), { v: 1, blocked: false, ids: ['ord-1001'] });
  b.timers.advance(5000);
  assert.equal(b.beacons.length, 1);
});

test('no beacon URL, or one that leaves the site, means no report', () => {
  for (const beacon of [undefined, null, 5, 'https://evil.example/x', '//evil.example/x', 'relative']) {
    const b = page({ v: 1, events: [PURCHASE], beacon });
    b.timers.advance(5000);
    b.pageHide();
    assert.equal(b.beacons.length, 0, String(beacon));
  }
});

test('at most 50 event IDs are reported', () => {
  const b = page({ v: 1, events: [], beacon: '/_capi/beacon' }, { fbqPresent: true });
  for (let i = 0; i < 60; i++) b.window.metaCapi.track('Lead');
  b.timers.advance(3000);
  assert.equal(body(b).ids.length, 50);
});
