import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createBrowser } = require('./fake-browser.cjs');
const code = readFileSync(new URL('../dist/meta-capi.js', import.meta.url), 'utf8');

// Facebook's and Instagram's in-app browsers: the page may ask them for the ad's click ID (Extended Browser
// Properties) when its URL has no fbclid. These fakes stand in for the two bridges.

const NOW = 1700000000000;
const LEAD = { method: 'track', name: 'Lead', eventId: 'lead-1', data: {} };
const CLICK = 'IwZXh0bgNhZW0BMABhZGlk_InApp-1';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0.0.0 Mobile Safari/537.36';
const FACEBOOK_ANDROID = (version) => `${ANDROID} [FB_IAB/FB4A;FBAV/${version}.0.0.48.109;]`;
const INSTAGRAM_ANDROID = (version) => `${ANDROID} Instagram ${version}.0.0.40.92 Android (34/14; 420dpi; 1080x2400; Google; Pixel 8; shiba; en_US; 1)`;

/** iOS: window.webkit.messageHandlers.browserProperties.postMessage(name) returns a promise the test settles. */
function iosBridge() {
  const bridge = { asked: [], settle: [] };
  const handler = {
    postMessage(name) {
      bridge.asked.push(name);
      return new Promise((resolve, reject) => bridge.settle.push({ resolve, reject }));
    },
  };
  bridge.globals = { webkit: { messageHandlers: { browserProperties: handler } } };
  bridge.answer = (value) => bridge.settle.shift().resolve(value);
  bridge.fail = () => bridge.settle.shift().reject(new Error('no property'));
  return bridge;
}

/** Android: an XMLHttpRequest whose requests to properties://browser/... the test answers. */
function androidBridge() {
  const bridge = { asked: [], requests: [] };
  function FakeXhr() {}
  FakeXhr.prototype.open = function (method, url) {
    bridge.asked.push(`${method} ${url}`);
  };
  FakeXhr.prototype.send = function () {
    bridge.requests.push(this);
  };
  bridge.globals = { XMLHttpRequest: FakeXhr };
  bridge.answer = (status, text) => {
    const xhr = bridge.requests.shift();
    xhr.status = status;
    xhr.responseText = text;
    xhr.onload();
  };
  bridge.fail = () => bridge.requests.shift().onerror();
  return bridge;
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

function page({ url = 'https://www.example.com/p/1', cookie = '', block = {}, bridge, ...rest } = {}) {
  const dataBlockJson = JSON.stringify({ v: 1, pixelId: null, loadPixel: false, cookieDomain: 'example.com', subdomainIndex: 1, events: [LEAD], ...block });
  const b = createBrowser({ timers: 'manual', now: NOW, url, cookie, dataBlockJson, fbqPresent: true, globals: bridge && bridge.globals, ...rest });
  b.run(code);
  return b;
}

const fbcWrites = (b) => b.cookieWrites.filter((w) => w.startsWith('_fbc='));
const names = (b) => b.clean(b.fbqCalls).map((c) => c[1]);

function clean(b) {
  assert.deepEqual(b.errors, []);
  assert.deepEqual(b.warnings, []);
}

test('iOS in-app browser, no fbclid, no _fbc: asks once for clickID, holds the Pixel calls, stores the answer as _fbc on the domain', async () => {
  const bridge = iosBridge();
  const b = page({ bridge, cookie: '_fbp=fb.1.1600000000000.123' });
  const recording = b.window.fbq;
  const cookieAtCall = [];
  b.window.fbq = function () {
    cookieAtCall.push(b.document.cookie);
    return recording.apply(this, arguments);
  };
  assert.deepEqual(bridge.asked, ['clickID']);
  assert.deepEqual(b.clean(b.fbqCalls), []);
  assert.deepEqual(fbcWrites(b), []);

  bridge.answer(CLICK);
  await settled();
  assert.deepEqual(fbcWrites(b), [`_fbc=fb.1.${NOW}.${CLICK}; path=/; max-age=7776000; samesite=lax; secure; domain=example.com`]);
  assert.deepEqual(names(b), ['Lead']);
  assert.match(cookieAtCall[0], new RegExp(`_fbc=fb\\.1\\.${NOW}\\.${CLICK}`), 'the Pixel saw the click ID when the Lead fired');
  // Later calls are not held, and the bridge is not asked again (consent granted again, a second sync).
  b.window.metaCapi.track('AddToCart');
  assert.deepEqual(names(b), ['Lead', 'AddToCart']);
  b.window.metaCapi.consent(true);
  assert.deepEqual(bridge.asked, ['clickID']);
  assert.equal(b.timers.pending(), 0);
  clean(b);
});

test('no answer within 500 ms: the Pixel calls go on; a later answer still becomes _fbc', async () => {
  const bridge = iosBridge();
  const b = page({ bridge });
  b.window.metaCapi.track('AddToCart');
  b.timers.advance(499);
  assert.deepEqual(b.clean(b.fbqCalls), []);
  b.timers.advance(1);
  assert.deepEqual(names(b), ['Lead', 'AddToCart']);

  bridge.answer(CLICK);
  await settled();
  assert.equal(b.cookies()._fbc, `fb.1.${NOW + 500}.${CLICK}`);
  clean(b);
});

test('the snippet\'s own Pixel (loadPixel) is injected after the answer, or after 500 ms at most', async () => {
  const answered = iosBridge();
  const b = page({ bridge: answered, fbqPresent: false, block: { pixelId: '1234567890', loadPixel: true } });
  assert.equal(b.appended.length, 0);
  answered.answer(CLICK);
  await settled();
  assert.equal(b.appended.length, 1);
  assert.equal(b.appended[0].src, 'https://connect.facebook.net/en_US/fbevents.js');

  const silent = iosBridge();
  const c = page({ bridge: silent, fbqPresent: false, block: { pixelId: '1234567890', loadPixel: true } });
  c.timers.advance(499);
  assert.equal(c.appended.length, 0);
  c.timers.advance(1);
  assert.equal(c.appended.length, 1);
  clean(b);
  clean(c);
});

test('an fbclid in the URL wins: the bridge is not asked', () => {
  const bridge = iosBridge();
  const b = page({ bridge, url: 'https://www.example.com/p/1?fbclid=FromTheUrl' });
  assert.deepEqual(bridge.asked, []);
  assert.equal(b.cookies()._fbc, `fb.1.${NOW}.FromTheUrl`);
  assert.deepEqual(names(b), ['Lead']);
  clean(b);
});

test('a valid _fbc is kept and the bridge not asked; an invalid one is replaced by the answer', async () => {
  const kept = iosBridge();
  const b = page({ bridge: kept, cookie: '_fbc=fb.1.1600000000000.OlderClick' });
  assert.deepEqual(kept.asked, []);
  assert.deepEqual(fbcWrites(b), []);
  clean(b);

  const replaced = iosBridge();
  const c = page({ bridge: replaced, cookie: '_fbc=fb.1.garbage' });
  assert.deepEqual(replaced.asked, ['clickID']);
  replaced.answer(CLICK);
  await settled();
  assert.deepEqual(c.jar.entries().filter((e) => e.name === '_fbc').map((e) => [e.value, e.domain]), [[`fb.1.${NOW}.${CLICK}`, 'example.com']]);
  clean(c);
});

test('without consent nothing is asked or written; consent(true) asks; revoked before the answer, nothing is written', async () => {
  const bridge = iosBridge();
  const b = page({ bridge, block: { consent: false } });
  assert.deepEqual(bridge.asked, []);
  assert.deepEqual(b.cookieWrites, []);

  b.window.metaCapi.consent(true);
  assert.deepEqual(bridge.asked, ['clickID']);
  bridge.answer(CLICK);
  await settled();
  assert.equal(b.cookies()._fbc, `fb.1.${NOW}.${CLICK}`);
  clean(b);

  const late = iosBridge();
  const c = page({ bridge: late });
  c.window.metaCapi.consent(false);
  late.answer(CLICK);
  await settled();
  assert.deepEqual(fbcWrites(c), [], 'nothing after the revoke');
  assert.equal(c.cookies()._fbc, undefined);
  // The Lead (consented when the page started) and the revoke go to the Pixel in their order once the hold ends.
  assert.deepEqual(c.clean(c.fbqCalls).map((a) => a.slice(0, 2)), [['track', 'Lead'], ['consent', 'revoke']]);
  clean(c);
});

test('crawlers: nothing is asked', () => {
  const bridge = iosBridge();
  page({ bridge, block: { crawler: true } });
  assert.deepEqual(bridge.asked, []);
});

test('Android: Facebook from FBAV 397 and Instagram from 264 are asked through properties://browser/clickID; older apps and other browsers are not', () => {
  const cases = [
    [FACEBOOK_ANDROID(397), true],
    [FACEBOOK_ANDROID(460), true],
    [FACEBOOK_ANDROID(396), false],
    [INSTAGRAM_ANDROID(264), true],
    [INSTAGRAM_ANDROID(330), true],
    [INSTAGRAM_ANDROID(263), false],
    [ANDROID, false],
    [FACEBOOK_ANDROID(460).replace('Android', 'Linux'), false],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', false],
  ];
  for (const [userAgent, asks] of cases) {
    const bridge = androidBridge();
    const b = page({ bridge, userAgent });
    assert.deepEqual(bridge.asked, asks ? ['GET properties://browser/clickID'] : [], userAgent);
    assert.deepEqual(names(b), asks ? [] : ['Lead'], userAgent);
    clean(b);
  }
});

test('Android: a 2xx answer becomes _fbc; an error or another status releases the Pixel calls at once and writes nothing', () => {
  const ok = androidBridge();
  const b = page({ bridge: ok, userAgent: FACEBOOK_ANDROID(460) });
  ok.answer(200, CLICK);
  assert.equal(b.cookies()._fbc, `fb.1.${NOW}.${CLICK}`);
  assert.deepEqual(names(b), ['Lead']);
  clean(b);

  for (const fail of [(x) => x.fail(), (x) => x.answer(404, 'nope'), (x) => x.answer(200, '')]) {
    const bridge = androidBridge();
    const c = page({ bridge, userAgent: INSTAGRAM_ANDROID(330) });
    fail(bridge);
    assert.deepEqual(names(c), ['Lead']);
    assert.deepEqual(fbcWrites(c), []);
    assert.equal(c.timers.pending(), 0);
    clean(c);
  }
});

test('a bridge that throws, answers no promise, rejects or answers an unusable click ID: nothing written, nothing thrown into the page', async () => {
  const unusable = ['', 'a.b', 'x'.repeat(501), 'with space', 42, null, { id: CLICK }];
  for (const value of unusable) {
    const bridge = iosBridge();
    const b = page({ bridge });
    bridge.answer(value);
    await settled();
    assert.deepEqual(fbcWrites(b), [], String(value));
    assert.deepEqual(names(b), ['Lead']);
    clean(b);
  }

  const rejecting = iosBridge();
  const r = page({ bridge: rejecting });
  rejecting.fail();
  await settled();
  assert.deepEqual(names(r), ['Lead']);
  assert.deepEqual(fbcWrites(r), []);
  clean(r);

  const handlers = [
    () => {
      throw new Error('bridge gone');
    },
    () => 'not a promise',
  ];
  for (const postMessage of handlers) {
    const b = page({ globals: { webkit: { messageHandlers: { browserProperties: { postMessage } } } } });
    assert.deepEqual(names(b), ['Lead'], 'released at once');
    assert.deepEqual(fbcWrites(b), []);
    assert.deepEqual(b.errors, []);
    assert.equal(b.warnings.length, 1);
  }
});
