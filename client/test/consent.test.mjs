import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createBrowser } = require('./fake-browser.cjs');
const code = readFileSync(new URL('../dist/meta-capi.js', import.meta.url), 'utf8');

const NOW = 1700000000000;
const AD = 'https://shop.example.com/p/1?fbclid=AbC-123_xyz';
const LEAD = { method: 'track', name: 'Lead', eventId: 'lead-1', data: {} };

function block(overrides = {}) {
  return JSON.stringify({ v: 1, pixelId: '1234567890', loadPixel: true, cookieDomain: null, subdomainIndex: 1, events: [], ...overrides });
}

function page(options = {}) {
  const b = createBrowser({ timers: 'manual', now: NOW, url: AD, ...options });
  b.run(code);
  return b;
}

function noErrors(b) {
  assert.deepEqual(b.errors, []);
  assert.deepEqual(b.warnings, []);
}

// ---- consent ----

test('without consent: revoke before init, no cookies, no events', () => {
  const b = page({ dataBlockJson: block({ consent: false }) });
  assert.deepEqual(b.clean(b.fbqCalls), [['consent', 'revoke'], ['init', '1234567890'], ['track', 'PageView']]);
  assert.deepEqual(b.cookieWrites, []);
  noErrors(b);
});

test('without consent, with the page\'s own fbq: revoke comes first, track() fires nothing but returns an ID', () => {
  const b = page({ dataBlockJson: block({ consent: false }), fbqPresent: true });
  const id = b.window.metaCapi.track('AddToCart', { value: 1, currency: 'USD' });
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.deepEqual(b.clean(b.fbqCalls), [['consent', 'revoke']]);
  assert.deepEqual(b.cookieWrites, []);
  noErrors(b);
});

test('consent(true) grants the Pixel, writes the cookies held back, and lets track() through; nothing is replayed', () => {
  const b = page({ dataBlockJson: block({ consent: false }), fbqPresent: true });
  b.window.metaCapi.track('AddToCart'); // before consent: dropped for good
  b.window.metaCapi.consent(true);
  const id = b.window.metaCapi.track('AddToCart', { value: 2, currency: 'USD' });
  assert.deepEqual(b.clean(b.fbqCalls), [
    ['consent', 'revoke'],
    ['consent', 'grant'],
    ['track', 'AddToCart', { value: 2, currency: 'USD' }, { eventID: id }],
  ]);
  assert.equal(b.cookies()._fbc, `fb.1.${NOW}.AbC-123_xyz`);
  assert.match(b.cookies()._fbp, new RegExp(`^fb\\.1\\.${NOW}\\.\\d+$`));
  noErrors(b);
});

test('consent(false) after consent revokes the Pixel, deletes _fbc and _fbp, and stops track()', () => {
  const b = page({ dataBlockJson: block({ cookieDomain: 'example.com' }), fbqPresent: true });
  assert.ok(b.cookies()._fbc && b.cookies()._fbp);
  b.window.metaCapi.consent(false);
  b.window.metaCapi.track('Lead');
  assert.deepEqual(b.clean(b.fbqCalls), [['consent', 'revoke']]);
  assert.equal(b.cookies()._fbc, undefined);
  assert.equal(b.cookies()._fbp, undefined);
  noErrors(b);
});

test('consent() only calls fbq when the choice changes; anything but true revokes', () => {
  const b = page({ dataBlockJson: block(), fbqPresent: true });
  b.window.metaCapi.consent(true);
  b.window.metaCapi.consent('true');
  b.window.metaCapi.consent(0);
  b.window.metaCapi.consent(true);
  assert.deepEqual(b.clean(b.fbqCalls), [['consent', 'revoke'], ['consent', 'grant']]);
  noErrors(b);
});

test('consent() called before the page is read decides instead of the data block', () => {
  const b = createBrowser({ timers: 'manual', now: NOW, url: AD, readyState: 'loading', fbqPresent: true, dataBlockJson: block({ consent: false }) });
  b.run(code);
  b.window.metaCapi.consent(true);
  b.domContentLoaded();
  assert.deepEqual(b.clean(b.fbqCalls), [['consent', 'revoke'], ['consent', 'grant']]);
  assert.equal(b.cookies()._fbc, `fb.1.${NOW}.AbC-123_xyz`);
  noErrors(b);
});

test('a page without the consent field is tracked as before', () => {
  const b = page({ dataBlockJson: block({ events: [LEAD] }), fbqPresent: true });
  assert.deepEqual(b.clean(b.fbqCalls), [['track', 'Lead', {}, { eventID: 'lead-1' }]]);
  assert.ok(b.cookies()._fbc);
  noErrors(b);
});

test('a crawler gets no Pixel, no cookies, no events, and consent() cannot change that', () => {
  const b = page({ dataBlockJson: block({ crawler: true, consent: false, events: [LEAD] }) });
  b.window.metaCapi.consent(true);
  b.window.metaCapi.track('Lead');
  assert.equal(b.window.fbq, undefined);
  assert.deepEqual(b.appended, []);
  assert.deepEqual(b.cookieWrites, []);
  noErrors(b);
});

// ---- Limited Data Use ----

test('the page\'s data processing options go before init, after a revoke', () => {
  const b = page({ dataBlockJson: block({ consent: false, dataProcessingOptions: { options: ['LDU'], country: 1, state: 1000 } }) });
  assert.deepEqual(b.clean(b.fbqCalls), [
    ['consent', 'revoke'],
    ['dataProcessingOptions', ['LDU'], 1, 1000],
    ['init', '1234567890'],
    ['track', 'PageView'],
  ]);
  noErrors(b);
});

test('LDU without a location is sent as 0, 0 (Meta geolocates); [] alone opts out', () => {
  const b = page({ dataBlockJson: block({ dataProcessingOptions: { options: ['LDU'] } }) });
  assert.deepEqual(b.clean(b.fbqCalls)[0], ['dataProcessingOptions', ['LDU'], 0, 0]);
  const none = page({ dataBlockJson: block({ dataProcessingOptions: { options: [] } }) });
  assert.deepEqual(none.clean(none.fbqCalls)[0], ['dataProcessingOptions', []]);
});

test('an event with its own options gets them just before it, and the page\'s are restored after it', () => {
  const own = { ...LEAD, dataProcessingOptions: { options: ['LDU'], country: 1, state: 1000 } };
  const b = page({ fbqPresent: true, dataBlockJson: block({ events: [own, { ...LEAD, eventId: 'lead-2' }], dataProcessingOptions: { options: ['LDU'], country: 0, state: 0 } }) });
  assert.deepEqual(b.clean(b.fbqCalls), [
    ['dataProcessingOptions', ['LDU'], 0, 0],
    ['dataProcessingOptions', ['LDU'], 1, 1000],
    ['track', 'Lead', {}, { eventID: 'lead-1' }],
    ['dataProcessingOptions', ['LDU'], 0, 0],
    ['track', 'Lead', {}, { eventID: 'lead-2' }],
  ]);
  const alone = page({ fbqPresent: true, dataBlockJson: block({ events: [{ ...LEAD, dataProcessingOptions: { options: [] } }] }) });
  assert.deepEqual(alone.clean(alone.fbqCalls), [
    ['dataProcessingOptions', []],
    ['track', 'Lead', {}, { eventID: 'lead-1' }],
    ['dataProcessingOptions', []],
  ]);
  noErrors(b);
});

test('malformed data processing options are ignored, not thrown on', () => {
  for (const dpo of [null, 'LDU', 5, { options: 'LDU' }, {}]) {
    const b = page({ fbqPresent: true, dataBlockJson: block({ dataProcessingOptions: dpo, events: [{ ...LEAD, dataProcessingOptions: dpo }] }) });
    assert.deepEqual(b.clean(b.fbqCalls), [['track', 'Lead', {}, { eventID: 'lead-1' }]], JSON.stringify(dpo));
    noErrors(b);
  }
});
