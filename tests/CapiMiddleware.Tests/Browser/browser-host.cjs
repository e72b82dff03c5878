'use strict';
// Remote control of a real headless Chromium (Debian's /usr/bin/chromium) for the C# end-to-end tests, through
// Jering. playwright-core drives it and never downloads a browser of its own. Requests to Meta's hosts are blocked,
// as behind an ad blocker, so the Pixel's base code stays a queue (fbq.queue) the tests can read; optionally a
// stand-in fbevents.js is served instead. Each export is a plain fn(callback, ...args), as Jering expects.

const { chromium } = require('playwright-core');

const META_HOSTS = /^https?:\/\/([a-z0-9-]+\.)*(facebook\.com|facebook\.net|fbcdn\.net)(:\d+)?\//i;
// Names under .test (reserved for testing, RFC 2606) resolve to loopback, so a test can serve the shop and another
// site from distinct origins (www.shop.test, attacker.test) that the browser treats as the real thing.
const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--host-resolver-rules=MAP *.test 127.0.0.1'];

const objects = new Map();
let nextId = 1;

function keep(value) {
  const id = String(nextId++);
  objects.set(id, value);
  return id;
}

function get(id) {
  const value = objects.get(id);
  if (!value) throw new Error('No browser object ' + id);
  return value;
}

async function launch(options) {
  const browser = await chromium.launch({ executablePath: options.executablePath, headless: true, args: LAUNCH_ARGS });
  return keep({ browser });
}

// A fresh context (own cookies) and page, with Meta's hosts blocked and every error collected. options.userAgent
// replaces the browser's; options.initScripts run in every document before its own scripts (a stand-in for what an
// in-app browser injects, or a library the test loads).
async function newPage(browserId, options) {
  options = options || {};
  const { browser } = get(browserId);
  const context = await browser.newContext(options.userAgent ? { userAgent: options.userAgent } : {});
  for (const content of options.initScripts || []) await context.addInitScript({ content });
  const state = { context, page: null, errors: [], violations: [], blocked: [] };

  await context.exposeBinding('__capiTestViolation', (_source, text) => { state.violations.push(text); });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__capiTestViolation(e.violatedDirective + ' blocked ' + e.blockedURI);
    });
  });
  await context.route(META_HOSTS, (route) => {
    const url = route.request().url();
    if (options.fbevents && /\/fbevents\.js(\?|$)/.test(url)) {
      return route.fulfill({ status: 200, contentType: 'text/javascript', body: options.fbevents });
    }
    state.blocked.push(url);
    return route.abort('blockedbyclient');
  });
  if (options.cachedPages) {
    // Pages "served from a cache": the browser gets these bodies without the server (or its middleware) seeing the request.
    for (const [path, body] of Object.entries(options.cachedPages)) {
      await context.route((url) => url.pathname === path, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body }));
    }
  }

  if (options.forwardedFor) {
    // A request to this path arrives as through a proxy from this address (X-Forwarded-For, which the sample trusts from
    // loopback): the address the browser would reach an IPv6 host of the site from.
    const { path, address } = options.forwardedFor;
    await context.route((url) => url.pathname === path, (route) =>
      route.continue({ headers: Object.assign({}, route.request().headers(), { 'x-forwarded-for': address }) }));
  }

  const page = await context.newPage();
  state.page = page;
  page.on('pageerror', (e) => state.errors.push('pageerror: ' + e.message));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const location = message.location() || {};
    // A blocked Meta request shows as a failed resource load: that is the ad blocker, not a script error.
    if (/Failed to load resource/.test(message.text()) && META_HOSTS.test(location.url || '')) return;
    state.errors.push('console.error: ' + message.text() + (location.url ? ' (' + location.url + ')' : ''));
  });
  return keep(state);
}

async function goto(pageId, url) {
  const { page } = get(pageId);
  const response = await page.goto(url, { waitUntil: 'load' });
  const headers = response ? await response.headersArray() : [];
  return {
    status: response ? response.status() : 0,
    setCookies: headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value),
  };
}

async function fill(pageId, fields) {
  const { page } = get(pageId);
  for (const [selector, value] of Object.entries(fields)) await page.fill(selector, value);
  return true;
}

async function click(pageId, selector) {
  await get(pageId).page.click(selector);
  return true;
}

async function clickAndWaitForLoad(pageId, selector) {
  const { page } = get(pageId);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);
  return page.url();
}

// Waits until a JavaScript expression is truthy in the page, then returns its value (JSON). Polled from here with
// page.evaluate, not page.waitForFunction: the latter compiles the expression inside the page once it has to poll,
// which a strict CSP (no 'unsafe-eval') reports as a page error.
async function waitFor(pageId, expression, timeoutMs) {
  const { page } = get(pageId);
  const deadline = Date.now() + (timeoutMs || 10000);
  for (;;) {
    let value = null;
    try {
      value = await page.evaluate(expression);
    } catch (e) {
      // A navigation in progress destroys the context: try again in the next page.
      if (!/context was destroyed|navigat/i.test(String(e && e.message))) throw e;
    }
    if (value) return value;
    if (Date.now() >= deadline) throw new Error('Timed out after ' + (timeoutMs || 10000) + ' ms waiting for: ' + expression);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function evaluate(pageId, expression) {
  const value = await get(pageId).page.evaluate(expression);
  return value === undefined ? null : value;
}

// What the Pixel was asked to send: the stub's queue, each call's arguments as a JSON array.
async function pixelQueue(pageId) {
  return get(pageId).page.evaluate(() => {
    const fbq = window.fbq;
    const queue = (fbq && fbq.queue) || [];
    return JSON.parse(JSON.stringify(queue.map((args) => Array.prototype.slice.call(args))));
  });
}

// The names of the cookies the browser holds for url, HttpOnly ones included.
async function cookieNames(pageId, url) {
  return (await get(pageId).context.cookies(url)).map((c) => c.name);
}

// Every cookie the browser holds for url: name, value and domain (".shop.test" for a domain cookie, the host for a
// host-only one), in the order the browser keeps them.
async function cookies(pageId, url) {
  return (await get(pageId).context.cookies(url)).map((c) => ({ name: c.name, value: c.value, domain: c.domain }));
}

// Cookies the browser holds before the visit, as another script (Meta's Pixel) left them: [{ name, value, domain }].
async function addCookies(pageId, list) {
  await get(pageId).context.addCookies(list.map((c) => ({ name: c.name, value: c.value, domain: c.domain, path: '/' })));
  return true;
}

// Many visits in one page, each from a clean cookie jar: the jar gets the visit's cookies ([{ name, value, domain }]),
// the page opens url (with a Referer, which becomes document.referrer), ready is awaited, and every cookie the browser
// then holds for url is collected (name, value, domain). Each url must differ from the one before by more than its
// fragment, or the browser stays in the same document.
async function visitEach(pageId, visits, ready) {
  const { context, page } = get(pageId);
  const results = [];
  for (const visit of visits) {
    await context.clearCookies();
    if (visit.cookies.length) await context.addCookies(visit.cookies.map((c) => ({ name: c.name, value: c.value, domain: c.domain, path: '/' })));
    await gotoSettled(page, visit.url, { waitUntil: 'domcontentloaded', referer: visit.referer || undefined });
    const probe = '[' + ready + ', document.referrer]';
    let seen = await evaluateInDocument(page, probe);
    for (const deadline = Date.now() + 5000; !seen[0]; seen = await evaluateInDocument(page, probe)) {
      if (Date.now() >= deadline) throw new Error('Timed out after 5000 ms waiting for: ' + ready + ' on ' + visit.url);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    results.push({
      ready: typeof seen[0] === 'string' ? seen[0] : null,
      referrer: seen[1],
      cookies: (await context.cookies(visit.url)).map((c) => ({ name: c.name, value: c.value, domain: c.domain })),
    });
  }
  return results;
}

// page.goto, again when a navigation still under way from the visit before aborted or interrupted it: on a loaded
// machine the previous page's own late navigation (the in-app probes) can still be running when the next visit starts.
async function gotoSettled(page, url, options) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await page.goto(url, options);
    } catch (e) {
      if (attempt >= 3 || !/ERR_ABORTED|interrupted by another navigation/.test(String(e && e.message))) throw e;
      await page.waitForLoadState('domcontentloaded').catch(() => {});
    }
  }
}

// page.evaluate in the document that is there once a navigation still under way has committed: on a loaded machine the
// visit's own navigation can still be replacing the document when goto returns ("Execution context was destroyed").
// The probes are read-only, so evaluating again in the new document is safe.
async function evaluateInDocument(page, expression) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await page.evaluate(expression);
    } catch (e) {
      if (attempt >= 5 || !/Execution context was destroyed/.test(String(e && e.message))) throw e;
      await page.waitForLoadState('domcontentloaded');
    }
  }
}

async function report(pageId) {
  const state = get(pageId);
  return { errors: state.errors.slice(), violations: state.violations.slice(), blocked: state.blocked.slice() };
}

// A PNG of the page as it looks now, animations finished, at a fixed size (for the docs).
async function screenshot(pageId, path, width, height) {
  const { page } = get(pageId);
  await page.setViewportSize({ width, height });
  await page.screenshot({ path, animations: 'disabled' });
  return true;
}

async function closePage(pageId) {
  const state = objects.get(pageId);
  objects.delete(pageId);
  if (state) await state.context.close();
  return true;
}

async function close(browserId) {
  const state = objects.get(browserId);
  objects.delete(browserId);
  if (state) await state.browser.close();
  return true;
}

function expose(fn) {
  return (callback, ...args) => {
    fn(...args).then((result) => callback(null, result), (error) => callback(error));
  };
}

module.exports = {
  launch: expose(launch),
  newPage: expose(newPage),
  goto: expose(goto),
  fill: expose(fill),
  click: expose(click),
  clickAndWaitForLoad: expose(clickAndWaitForLoad),
  waitFor: expose(waitFor),
  evaluate: expose(evaluate),
  pixelQueue: expose(pixelQueue),
  cookieNames: expose(cookieNames),
  cookies: expose(cookies),
  addCookies: expose(addCookies),
  visitEach: expose(visitEach),
  report: expose(report),
  screenshot: expose(screenshot),
  closePage: expose(closePage),
  close: expose(close),
};
