import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createBrowser } = require('./fake-browser.cjs');
const code = readFileSync(new URL('../dist/meta-capi.js', import.meta.url), 'utf8');

const NOW = 1700000000000;
const ATTRS = '; path=/; max-age=7776000; samesite=lax';
const FBP = 'fb.1.1600000000000.1116446470';

function page({ url = 'https://shop.example.com/', cookie = '', cookieDomain = null, subdomainIndex = 1, ...rest } = {}) {
  const dataBlockJson = JSON.stringify({ v: 1, pixelId: null, loadPixel: false, cookieDomain, subdomainIndex, events: [] });
  const b = createBrowser({ timers: 'manual', now: NOW, url, cookie, dataBlockJson, fbqPresent: true, ...rest });
  b.run(code);
  assert.deepEqual(b.errors, []);
  return b;
}

const fbcWrites = (b) => b.cookieWrites.filter((w) => w.startsWith('_fbc='));
const fbpWrites = (b) => b.cookieWrites.filter((w) => w.startsWith('_fbp='));

test('fbclid in the URL sets _fbc = fb.{i}.{now}.{fbclid}, case and characters untouched', () => {
  const b = page({ url: 'https://shop.example.com/products/1?utm_source=fb&fbclid=IwAR2x_Y-z9AbC', cookie: `_fbp=${FBP}` });
  assert.deepEqual(b.cookieWrites, [`_fbc=fb.1.${NOW}.IwAR2x_Y-z9AbC${ATTRS}; secure`]);
  assert.equal(b.cookies()._fbc, `fb.1.${NOW}.IwAR2x_Y-z9AbC`);
});

test('the subdomain index from the data block is used', () => {
  const b = page({ url: 'https://www.example.com/?fbclid=abc', subdomainIndex: 2 });
  assert.equal(b.cookies()._fbc, `fb.2.${NOW}.abc`);
  assert.match(b.cookies()._fbp, new RegExp(`^fb\\.2\\.${NOW}\\.\\d+$`));
});

test('the same click ID keeps the existing _fbc and its timestamp (4 or 5 segments)', () => {
  for (const fbc of ['fb.1.1690000000000.AbC', 'fb.1.1690000000000.AbC.AQQCAQMC', 'fb.0.1690000000000.AbC']) {
    const b = page({ url: 'https://shop.example.com/?fbclid=AbC', cookie: `_fbc=${fbc}; _fbp=${FBP}` });
    assert.deepEqual(b.cookieWrites, [], fbc);
    assert.equal(b.cookies()._fbc, fbc);
  }
});

test('a different click ID replaces _fbc with a new timestamp', () => {
  const b = page({ url: 'https://shop.example.com/?fbclid=NewOne', cookie: `_fbc=fb.1.1690000000000.OldOne; _fbp=${FBP}` });
  assert.equal(fbcWrites(b).length, 1);
  assert.equal(b.cookies()._fbc, `fb.1.${NOW}.NewOne`);
});

test('click IDs differing only in case are different', () => {
  const b = page({ url: 'https://shop.example.com/?fbclid=abc', cookie: '_fbc=fb.1.1690000000000.ABC' });
  assert.equal(b.cookies()._fbc, `fb.1.${NOW}.abc`);
});

test('an invalid existing _fbc is replaced when a click ID arrives', () => {
  for (const fbc of ['garbage', 'fb.1.abc.AbC', 'fb.1.1690000000000.', 'fb.1.1690000000000.Old.too.long']) {
    const b = page({ url: 'https://shop.example.com/?fbclid=AbC', cookie: `_fbc=${fbc}` });
    assert.equal(b.cookies()._fbc, `fb.1.${NOW}.AbC`, fbc);
  }
});

test('invalid fbclid values are ignored', () => {
  const bad = [
    'x'.repeat(501),
    'abc$def',
    'a.b',
    'a%20b',
    'a+b',
    'a%2Fb',
    '',
    'ab%C3%A9',
    '<script>',
  ];
  for (const v of bad) {
    const b = page({ url: `https://shop.example.com/?fbclid=${v}`, cookie: `_fbp=${FBP}` });
    assert.deepEqual(b.cookieWrites, [], v);
    assert.equal(b.cookies()._fbc, undefined);
  }
});

test('an invalid fbclid leaves an existing _fbc alone', () => {
  const b = page({ url: 'https://shop.example.com/?fbclid=bad$id', cookie: `_fbc=fb.1.1690000000000.Old; _fbp=${FBP}` });
  assert.deepEqual(b.cookieWrites, []);
  assert.equal(b.cookies()._fbc, 'fb.1.1690000000000.Old');
});

test('a 500-character fbclid is accepted', () => {
  const v = 'A'.repeat(250) + '_-'.repeat(125);
  const b = page({ url: `https://shop.example.com/?fbclid=${v}` });
  assert.equal(b.cookies()._fbc, `fb.1.${NOW}.${v}`);
});

test('no fbclid, no _fbc', () => {
  const b = page({ url: 'https://shop.example.com/?gclid=abc', cookie: `_fbp=${FBP}` });
  assert.deepEqual(b.cookieWrites, []);
});

test('_fbp is minted only when absent: fb.{i}.{now}.{0..2147483646}', () => {
  const b = page();
  const writes = fbpWrites(b);
  assert.equal(writes.length, 1);
  assert.match(writes[0], new RegExp(`^_fbp=fb\\.1\\.${NOW}\\.\\d+; path=/; max-age=7776000; samesite=lax; secure$`));
  const n = Number(b.cookies()._fbp.split('.')[3]);
  assert.ok(Number.isInteger(n) && n >= 0 && n <= 2147483646);
  // Random part varies between visitors.
  const seen = new Set();
  for (let i = 0; i < 20; i++) seen.add(page().cookies()._fbp);
  assert.ok(seen.size > 15);
});

test('existing valid _fbp values, 4 or 5 segments, are kept byte for byte', () => {
  for (const fbp of [FBP, 'fb.1.1700000000000.IwAR2.AQQCAQMC', 'fb.2.1700000000000.123', 'fb.1.1700000000000.abc-_XYZ']) {
    const b = page({ cookie: `other=1; _fbp=${fbp}; x=y` });
    assert.deepEqual(b.cookieWrites, [], fbp);
    assert.equal(b.cookies()._fbp, fbp);
  }
});

test('a fifth segment is kept only when it is an appendix Meta writes', () => {
  for (const appendix of ['AQ', 'Bg', 'AQQCAQMC', 'AQEAAQMC', 'AQb_-xyz']) {
    const fbp = `fb.1.1700000000000.123.${appendix}`;
    const b = page({ cookie: `_fbp=${fbp}` });
    assert.deepEqual(b.cookieWrites, [], fbp);
  }
  for (const appendix of ['XY', 'aq', 'AQQCAQM', 'AQQCAQMCX', 'ZZZZZZZZ', 'AQcCAQMC', 'AQDCAQMC', 'BQQCAQMC', 'AQQCAQ+C']) {
    const fbp = `fb.1.1700000000000.123.${appendix}`;
    const b = page({ cookie: `_fbp=${fbp}` });
    assert.equal(fbpWrites(b).length, 1, fbp);
  }
});

test('an invalid _fbp is replaced', () => {
  for (const fbp of ['', 'abc', 'fb.1.x.123', 'fb.1.1700000000000', 'fb.1.1700000000000.1.2.3']) {
    const b = page({ cookie: `_fbp=${fbp}` });
    assert.equal(fbpWrites(b).length, 1, fbp);
    assert.match(b.cookies()._fbp, /^fb\.1\.1700000000000\.\d+$/);
  }
});

test('cookie attributes: domain when configured, secure only on https, never HttpOnly', () => {
  const https = page({ url: 'https://shop.example.com/?fbclid=Q1', cookieDomain: 'example.com' });
  assert.deepEqual(https.cookieWrites.map((w) => w.replace(/^(_fb[cp]=).*?;/, '$1...;')), [
    `_fbc=...${ATTRS}; secure; domain=example.com`,
    `_fbp=...${ATTRS}; secure; domain=example.com`,
  ]);
  assert.deepEqual(https.jar.entries().map((c) => c.domain), ['example.com', 'example.com']);

  const http = page({ url: 'http://shop.example.com/?fbclid=Q1' });
  assert.deepEqual(http.cookieWrites.map((w) => w.replace(/^(_fb[cp]=).*?;/, '$1...;')), [
    `_fbc=...${ATTRS}`,
    `_fbp=...${ATTRS}`,
  ]);
  assert.deepEqual(http.jar.entries().map((c) => c.domain), [null, null], 'host-only without cookieDomain');

  for (const w of [...https.cookieWrites, ...http.cookieWrites]) assert.doesNotMatch(w, /httponly/i);
});

test('a cookie domain the page is not on falls back to a host-only cookie', () => {
  const b = page({ url: 'http://localhost:5000/?fbclid=Q1', cookieDomain: 'example.com' });
  assert.equal(b.cookies()._fbc, `fb.1.${NOW}.Q1`);
  assert.match(b.cookies()._fbp, /^fb\.1\.\d+\.\d+$/);
  assert.deepEqual(b.jar.entries().map((c) => c.domain), [null, null]);
  assert.equal(b.cookieWrites.length, 4, 'one rejected domain write and one host-only write each');
});

test('a cookieDomain that could inject attributes is ignored', () => {
  const b = page({ url: 'https://shop.example.com/', cookieDomain: 'example.com; httponly' });
  assert.deepEqual(b.jar.entries().map((c) => c.domain), [null]);
  assert.doesNotMatch(b.cookieWrites[0], /domain|httponly/i);
});

test('cookies are written before the Pixel is loaded, so fbevents.js picks them up', () => {
  const dataBlockJson = JSON.stringify({ v: 1, pixelId: '1', loadPixel: true, cookieDomain: null, subdomainIndex: 1, events: [] });
  const b = createBrowser({ timers: 'manual', now: NOW, url: 'https://a.example.com/?fbclid=Z', dataBlockJson });
  let cookiesWhenAppended = null;
  const orig = b.document.head.appendChild;
  b.document.head.appendChild = (el) => {
    cookiesWhenAppended = b.cookies();
    return orig(el);
  };
  b.run(code);
  assert.equal(cookiesWhenAppended._fbc, `fb.1.${NOW}.Z`);
  assert.ok(cookiesWhenAppended._fbp);
});

// Issue 15: the snippet writes where the server does, finds the domain itself on pages without a data block, reads
// every value of a name, and never leaves a host-only sibling beside a domain cookie.
function bare({ url, cookie = '', domainCookies = [] }) {
  const b = createBrowser({ timers: 'manual', now: NOW, url, cookie, domainCookies, dataBlockJson: null, fbqPresent: true });
  b.run(code);
  assert.deepEqual(b.errors, []);
  return b;
}

test('the data block names the domain: the snippet writes there, with its index', () => {
  const b = page({ url: 'https://www.shop.example.co.uk/?fbclid=AbC', cookieDomain: 'example.co.uk', subdomainIndex: 2 });
  assert.deepEqual(b.jar.entries().map((c) => [c.name, c.domain]).sort(), [['_fbc', 'example.co.uk'], ['_fbp', 'example.co.uk']]);
  assert.equal(b.cookies()._fbc, `fb.2.${NOW}.AbC`);
});

test('a data block that says host-only (null) is obeyed: no domain is looked for', () => {
  const b = page({ url: 'https://shop.example.com/?fbclid=AbC', cookieDomain: null, subdomainIndex: 1 });
  assert.deepEqual(b.jar.entries().map((c) => c.domain), [null, null]);
  assert.ok(!b.cookieWrites.some((w) => w.startsWith('_capi_probe')));
});

test('without a data block the shortest domain the browser accepts is found, as the Pixel finds it', () => {
  for (const [url, domain, index] of [
    ['https://www.shop.example.co.uk/?fbclid=AbC', 'example.co.uk', 2],
    ['https://a.b.example.com/?fbclid=AbC', 'example.com', 1],
    ['https://myshop.azurewebsites.net/?fbclid=AbC', 'myshop.azurewebsites.net', 2],
  ]) {
    const b = bare({ url });
    const fbc = b.jar.entries().find((c) => c.name === '_fbc');
    assert.equal(fbc.domain, domain, url);
    assert.equal(fbc.value, `fb.${index}.${NOW}.AbC`, url);
    assert.ok(!b.jar.entries().some((c) => c.name === '_capi_probe'), 'the probe cookie is removed');
  }
});

test('IP addresses and single-label hosts keep host-only cookies', () => {
  for (const url of ['http://127.0.0.1:5080/?fbclid=AbC', 'http://localhost:5080/?fbclid=AbC']) {
    const b = bare({ url });
    assert.deepEqual(b.jar.entries().map((c) => c.domain), [null, null], url);
  }
});

test('a new click replaces the Pixel\'s domain _fbc instead of adding a sibling', () => {
  const b = bare({
    url: 'https://www.shop.test.example.com/?fbclid=NewClick',
    domainCookies: [{ name: '_fbc', value: 'fb.1.1600000000000.OldClick', domain: 'example.com' }, { name: '_fbp', value: FBP, domain: 'example.com' }],
  });
  const fbcs = b.jar.entries().filter((c) => c.name === '_fbc');
  assert.deepEqual(fbcs.map((c) => [c.domain, c.value]), [['example.com', `fb.1.${NOW}.NewClick`]]);
  assert.equal(b.jar.entries().filter((c) => c.name === '_fbp').length, 1);
});

test('a host-only duplicate is expired and the winner kept on the domain: newest _fbc, first _fbp', () => {
  const b = page({
    url: 'https://www.example.com/',
    cookie: '_fbc=fb.1.1700000000000.NewerClick; _fbp=fb.1.1700000000000.222',
    domainCookies: [{ name: '_fbc', value: 'fb.1.1600000000000.OlderClick', domain: 'example.com' }, { name: '_fbp', value: FBP, domain: 'example.com' }],
    cookieDomain: 'example.com',
  });
  assert.deepEqual(
    b.jar.entries().map((c) => [c.name, c.domain, c.value]).sort(),
    [['_fbc', 'example.com', 'fb.1.1700000000000.NewerClick'], ['_fbp', 'example.com', 'fb.1.1700000000000.222']]);
});

test('the same click ID in a duplicate keeps its timestamp', () => {
  const b = page({
    url: 'https://www.example.com/?fbclid=Same',
    cookie: '_fbc=fb.1.1650000000000.Same',
    domainCookies: [{ name: '_fbc', value: 'fb.1.1600000000000.Other', domain: 'example.com' }, { name: '_fbp', value: FBP, domain: 'example.com' }],
    cookieDomain: 'example.com',
  });
  assert.deepEqual(b.jar.entries().filter((c) => c.name === '_fbc').map((c) => [c.domain, c.value]), [['example.com', 'fb.1.1650000000000.Same']]);
});

// Issue 15, part 3: _fbi, the browser's own address, from the endpoint the data block names.
function ipPage({ answer = '2001:db8::7', status = 200, consent = true, cookie = '', url = 'https://www.example.com/' } = {}) {
  const dataBlockJson = JSON.stringify({ v: 1, pixelId: null, loadPixel: false, cookieDomain: 'example.com', subdomainIndex: 1, consent, ipEndpoint: 'https://ipv6.example.com/_capi/ip', events: [] });
  const b = createBrowser({ timers: 'manual', now: NOW, url, cookie, dataBlockJson, fbqPresent: true,
    fetch: () => ({ ok: status === 200, text: () => Promise.resolve(answer) }) });
  b.run(code);
  assert.deepEqual(b.errors, []);
  return b;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('_fbi: the endpoint is asked without credentials, and its answer kept a day on the cookie domain', async () => {
  const b = ipPage();
  await settle();
  assert.equal(b.fetches.length, 1);
  assert.equal(b.fetches[0].url, 'https://ipv6.example.com/_capi/ip');
  assert.equal(b.fetches[0].init.credentials, 'omit');
  const fbi = b.jar.entries().find((c) => c.name === '_fbi');
  assert.deepEqual([fbi.domain, fbi.value], ['example.com', '2001:db8::7']);
  assert.ok(b.cookieWrites.some((w) => w.startsWith('_fbi=2001:db8::7; path=/; max-age=86400;')));
});

test('_fbi: not asked without consent, nor while a valid one is kept', async () => {
  const refused = ipPage({ consent: false });
  const kept = ipPage({ cookie: '_fbi=203.0.113.9' });
  await settle();
  assert.equal(refused.fetches.length, 0);
  assert.equal(kept.fetches.length, 0);
});

test('_fbi: an answer that is not an address, or a failed request, writes nothing', async () => {
  for (const b of [ipPage({ answer: '<html>oops</html>' }), ipPage({ answer: '1.2.3', status: 200 }), ipPage({ status: 500 })]) {
    await settle();
    assert.ok(!b.jar.entries().some((c) => c.name === '_fbi'));
    assert.deepEqual(b.errors, []);
  }
});
