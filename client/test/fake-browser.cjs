'use strict';
// A tiny fake browser for running the built snippet in a Node `vm` context.
// Shared by the node:test suites (client/test) and by the C# tests' Node host
// (tests/CapiMiddleware.Tests/Client/snippet-host.cjs). No dependencies.

const vm = require('node:vm');
const { webcrypto } = require('node:crypto');

// A browser-like cookie jar behind document.cookie: assignments add, replace or delete one
// cookie (keyed by name, domain and path, as browsers do); reading gives "a=b; c=d".
// A few public suffixes (the real browser uses the whole Public Suffix List): a Domain attribute naming one, or a
// single label, is refused, as browsers refuse it.
const PUBLIC_SUFFIXES = new Set(['com', 'net', 'org', 'test', 'uk', 'co.uk', 'azurewebsites.net', 'github.io']);

// initial: "a=b; c=d" (host-only cookies); domainCookies: [{ name, value, domain }] held on a domain beforehand, as
// Meta's Pixel writes them (listed after the host-only ones, as an older cookie would be).
function createCookieJar(hostname, protocol, initial, domainCookies) {
  const jar = new Map();
  const writes = [];
  for (const part of String(initial || '').split(';')) {
    const p = part.trim();
    const eq = p.indexOf('=');
    if (eq > 0) jar.set(`${p.slice(0, eq)}|host|/`, { name: p.slice(0, eq), value: p.slice(eq + 1), domain: null, path: '/' });
  }
  for (const c of domainCookies || []) jar.set(`${c.name}|${c.domain}|/`, { name: c.name, value: c.value, domain: c.domain, path: '/' });

  function set(raw) {
    raw = String(raw);
    writes.push(raw);
    const [pair, ...attrs] = raw.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const cookie = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), domain: null, path: '/' };
    let remove = false;
    for (const a of attrs) {
      const i = a.indexOf('=');
      const key = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
      const val = i < 0 ? '' : a.slice(i + 1).trim();
      if (key === 'domain') cookie.domain = val.replace(/^\./, '').toLowerCase();
      else if (key === 'path') cookie.path = val || '/';
      else if (key === 'max-age') remove = Number(val) <= 0;
      else if (key === 'expires') remove = Date.parse(val) <= Date.now();
      else if (key === 'secure' && protocol !== 'https:') return;
      else if (key === 'httponly') return;
    }
    // A Domain attribute must domain-match the page's host, or the browser ignores the cookie.
    if (cookie.domain && cookie.domain !== hostname && !hostname.endsWith(`.${cookie.domain}`)) return;
    if (cookie.domain && (PUBLIC_SUFFIXES.has(cookie.domain) || cookie.domain.indexOf('.') < 0)) return;
    const key = `${cookie.name}|${cookie.domain || 'host'}|${cookie.path}`;
    if (remove) jar.delete(key);
    else jar.set(key, cookie);
  }

  function get() {
    return [...jar.values()].map((c) => `${c.name}=${c.value}`).join('; ');
  }

  // name -> value; with duplicates (host-only and domain cookies), the first, like a server would read.
  function toObject() {
    const out = {};
    for (const c of jar.values()) if (!(c.name in out)) out[c.name] = c.value;
    return out;
  }

  return { set, get, toObject, writes, entries: () => [...jar.values()].map((c) => ({ ...c })) };
}

// Timers: 'real' uses Node's timers (cleared by dispose); 'manual' runs only on advance(ms),
// with a virtual clock behind Date.now().
function createTimers(mode, errors, startMs) {
  const handles = new Set();
  const queue = [];
  let now = startMs;
  let seq = 0;
  const guard = (fn, args) => {
    try {
      fn(...args);
    } catch (e) {
      errors.push(`uncaught in timer: ${e && e.stack ? e.stack : e}`);
    }
  };
  if (mode === 'manual') {
    return {
      setTimeout(fn, ms, ...args) {
        const t = { id: ++seq, at: now + Math.max(0, Number(ms) || 0), fn, args };
        queue.push(t);
        return t.id;
      },
      clearTimeout(id) {
        const i = queue.findIndex((t) => t.id === id);
        if (i >= 0) queue.splice(i, 1);
      },
      now: () => now,
      advance(ms) {
        const end = now + ms;
        for (;;) {
          queue.sort((a, b) => a.at - b.at || a.id - b.id);
          if (!queue.length || queue[0].at > end) break;
          const t = queue.shift();
          now = Math.max(now, t.at);
          guard(t.fn, t.args);
        }
        now = end;
      },
      pending: () => queue.length,
      dispose() {
        queue.length = 0;
      },
    };
  }
  return {
    setTimeout(fn, ms, ...args) {
      const h = setTimeout(() => {
        handles.delete(h);
        guard(fn, args);
      }, ms);
      handles.add(h);
      return h;
    },
    clearTimeout(h) {
      clearTimeout(h);
      handles.delete(h);
    },
    now: () => Date.now(),
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    pending: () => handles.size,
    dispose() {
      for (const h of handles) clearTimeout(h);
      handles.clear();
    },
  };
}

// A fbq that records every call as a plain array.
function createRecordingFbq(calls) {
  const fbq = function () {
    calls.push(Array.prototype.slice.call(arguments));
  };
  fbq.loaded = true;
  fbq.version = '2.0';
  return fbq;
}

/**
 * Creates a fake browser page.
 * options: url, cookie, domainCookies ([{ name, value, domain }]), fetch ((url, init) => { ok, text() }), dataBlockJson (string|null), fbqPresent, readyState ('complete'|'interactive'|'loading'),
 *   timers ('real'|'manual'), now (start of the manual clock), crypto (false to remove it),
 *   cookieThrows, fbqThrows, nonce (of document.currentScript), userAgent, globals (more window properties, e.g. an
 *   in-app browser's webkit or XMLHttpRequest).
 */
function createBrowser(options = {}) {
  const url = new URL(options.url || 'https://shop.example.com/');
  const errors = [];
  const warnings = [];
  const fbqCalls = [];
  const timers = createTimers(options.timers || 'real', errors, options.now || Date.now());
  const jar = createCookieJar(url.hostname, url.protocol, options.cookie, options.domainCookies);
  const listeners = [];
  const windowListeners = [];
  const appended = [];
  const beacons = [];

  const element = (tagName) => {
    const attributes = {};
    return {
      tagName: tagName.toUpperCase(),
      attributes,
      setAttribute(k, v) {
        attributes[k] = String(v);
      },
      getAttribute(k) {
        return k in attributes ? attributes[k] : null;
      },
    };
  };
  const container = (name) => ({
    tagName: name,
    childNodes: appended,
    appendChild(child) {
      appended.push(child);
      return child;
    },
  });

  const document = {
    readyState: options.readyState || 'complete',
    head: container('HEAD'),
    documentElement: container('HTML'),
    currentScript: options.nonce ? Object.assign(element('script'), { nonce: options.nonce }) : null,
    getElementById(id) {
      if (id !== 'meta-capi-data' || options.dataBlockJson == null) return null;
      return Object.assign(element('script'), { id, type: 'application/json', textContent: String(options.dataBlockJson) });
    },
    createElement: element,
    addEventListener(type, fn) {
      listeners.push({ type, fn });
    },
    removeEventListener(type, fn) {
      const i = listeners.findIndex((l) => l.type === type && l.fn === fn);
      if (i >= 0) listeners.splice(i, 1);
    },
  };
  Object.defineProperty(document, 'cookie', {
    get() {
      if (options.cookieThrows) throw new Error('SecurityError: cookies are blocked');
      return jar.get();
    },
    set(v) {
      if (options.cookieThrows) throw new Error('SecurityError: cookies are blocked');
      jar.set(v);
    },
  });

  const location = {
    href: url.href,
    protocol: url.protocol,
    host: url.host,
    hostname: url.hostname,
    port: url.port,
    pathname: url.pathname,
    search: url.search,
    hash: url.hash,
    origin: url.origin,
  };

  const HostDate = Date;
  class FakeDate extends HostDate {
    constructor(...args) {
      if (args.length) super(...args);
      else super(timers.now());
    }
    static now() {
      return timers.now();
    }
  }

  const sandbox = {
    document,
    location,
    navigator: {
      userAgent: options.userAgent || 'Mozilla/5.0 (fake-browser)',
      language: 'en-US',
      sendBeacon(url, data) {
        beacons.push({ url: String(url), data: String(data) });
        return true;
      },
    },
    addEventListener(type, fn) {
      windowListeners.push({ type, fn });
    },
    console: {
      log() {},
      info() {},
      debug() {},
      warn: (...a) => warnings.push(a.map(String).join(' ')),
      error: (...a) => errors.push(a.map(String).join(' ')),
    },
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    Date: FakeDate,
    URL,
    URLSearchParams,
  };
  if (options.crypto !== false) sandbox.crypto = webcrypto;
  // options.fetch(url, init) answers window.fetch (a Promise of { ok, text() }); each call is recorded in fetches.
  const fetches = [];
  if (options.fetch) {
    sandbox.fetch = (url, init) => {
      fetches.push({ url: String(url), init });
      return Promise.resolve().then(() => options.fetch(String(url), init));
    };
  }
  Object.assign(sandbox, options.globals || {});
  sandbox.window = sandbox;
  sandbox.self = sandbox;
  if (options.fbqPresent) sandbox.fbq = options.fbqThrows ? throwingFbq(fbqCalls) : createRecordingFbq(fbqCalls);

  const context = vm.createContext(sandbox);

  const browser = {
    context,
    window: sandbox,
    document,
    location,
    jar,
    timers,
    errors,
    warnings,
    appended,
    /** What navigator.sendBeacon was given: { url, data }. */
    beacons,
    /** What window.fetch was asked: { url, init }. */
    fetches,
    /** The page is left: pagehide fires on window. */
    pageHide() {
      for (const l of windowListeners.slice()) {
        if (l.type === 'pagehide') l.fn.call(sandbox, { type: 'pagehide' });
      }
    },
    /** Calls made on the recording fbq, then whatever sits in a queue stub's fbq.queue. */
    get fbqCalls() {
      const calls = fbqCalls.slice();
      const f = sandbox.fbq;
      if (f && Array.isArray(f.queue) && f.queue.length) {
        for (const args of f.queue) calls.push(Array.prototype.slice.call(args));
      }
      return calls;
    },
    /** Evaluates code as a classic script; errors thrown to the "page" are recorded, not rethrown. */
    run(code, filename = 'meta-capi.js') {
      try {
        vm.runInContext(code, context, { filename });
      } catch (e) {
        errors.push(`uncaught: ${e && e.stack ? e.stack : e}`);
      }
    },
    /** Defines a recording window.fbq later, as a Pixel base code loaded after the snippet would. */
    installFbq() {
      sandbox.fbq = createRecordingFbq(fbqCalls);
      return sandbox.fbq;
    },
    /** document.readyState goes from 'loading' to 'interactive' and DOMContentLoaded fires. */
    domContentLoaded() {
      document.readyState = 'interactive';
      for (const l of listeners.slice()) {
        if (l.type !== 'DOMContentLoaded') continue;
        try {
          l.fn.call(document, { type: 'DOMContentLoaded' });
        } catch (e) {
          errors.push(`uncaught in DOMContentLoaded: ${e && e.stack ? e.stack : e}`);
        }
      }
    },
    cookies: () => jar.toObject(),
    cookieWrites: jar.writes,
    /** JSON-clean copy (objects made inside the vm context become plain host objects). */
    clean: (value) => (value === undefined ? null : JSON.parse(JSON.stringify(value))),
    dispose: () => timers.dispose(),
  };
  return browser;
}

function throwingFbq(calls) {
  const fbq = function () {
    calls.push(Array.prototype.slice.call(arguments));
    throw new Error('fbq exploded');
  };
  fbq.loaded = true;
  return fbq;
}

module.exports = { createBrowser, createCookieJar, createRecordingFbq };
