/*
 * CapiMiddleware browser snippet.
 *
 * Reads the server's JSON data block (#meta-capi-data), fires each server event
 * through the Meta Pixel with the same event ID (so Meta deduplicates the browser
 * and server copies), keeps the first-party _fbc/_fbp cookies in place on pages
 * served without the middleware, asks Facebook's and Instagram's in-app browsers for
 * the ad's click ID when the URL lost it, and exposes window.metaCapi. Without tracking
 * consent it writes no cookies and fires nothing, and keeps the Pixel's own consent
 * (fbq('consent', 'grant' | 'revoke')) in step; crawlers get nothing at all.
 *
 * Rules for this file: ES2017 only (no ?. or ??, no class fields, no optional
 * catch binding, no object spread, no template literals), no dependencies, never
 * throw into the page. Comments stand on their own lines: build.mjs strips
 * whole-line comments and indentation only.
 */
(function (win) {
  'use strict';

  // Replaced by build.mjs with the version from client/package.json.
  var VERSION = 'dev';
  var STANDARD = ['PageView', 'ViewContent', 'Search', 'AddToCart', 'AddToWishlist',
    'InitiateCheckout', 'AddPaymentInfo', 'Purchase', 'Lead', 'CompleteRegistration',
    'Contact', 'CustomizeProduct', 'Donate', 'FindLocation', 'Schedule', 'StartTrial',
    'SubmitApplication', 'Subscribe'];
  var MAX_AGE = 7776000;
  var WAIT_MS = 10000;
  var POLL_MS = 50;
  // fb.{subdomainIndex}.{creationTimeMs}.{payload}[.{appendix}]: accepted byte for byte. The same rule as the
  // server's MetaCookies.IsValid: a payload of printable ASCII without . ; , " \ %, at most 564 characters, and a
  // fifth segment only if it is an appendix Meta's libraries write: a language token (AQ Ag Aw BA BQ Bg) or eight
  // base64url characters whose first byte is 1 and second 1 to 6, which is exactly AQ, then E-Z a b, then any five.
  var COOKIE_RE = /^fb\.\d{1,4}\.\d{1,20}\.[\x21\x23\x24\x26-\x2b\x2d\x2f-\x3a\x3c-\x5b\x5d-\x7e]+(\.(AQ|Ag|Aw|BA|BQ|Bg|AQ[E-Zab][A-Za-z0-9_-]{5}))?$/;
  var MAX_COOKIE_LENGTH = 564;
  var FBCLID_RE = /^[A-Za-z0-9_-]{1,500}$/;
  // An IPv4 or IPv6 address as an echo endpoint answers it (no zone, no brackets), and _fbi's lifetime: a day.
  var IP_RE = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7}(:\d{1,3}(\.\d{1,3}){3})?)$/;
  var FBI_MAX_AGE = 86400;
  // How long after start the snippet looks whether fbevents.js replaced the queue stub, and the beacon's limits.
  var REPORT_MS = 3000;
  var MAX_REPORTED_IDS = 50;
  // How long the snippet holds its Pixel calls for an in-app browser's click ID (see askInApp), so the Pixel's events
  // can carry it too. On Android the bridge answers in Facebook (FB_IAB, FBAV/397 up) and Instagram (264 up).
  var IN_APP_WAIT_MS = 500;
  var IN_APP_ANDROID_FB = 397;
  var IN_APP_ANDROID_INSTAGRAM = 264;

  // Included twice (or the classic and the module build both): the first copy wins.
  if (win && win.__metaCapi) return win.__metaCapi;

  var doc = win && win.document;
  var warned = false;
  var pending = [];
  var deadline = 0;
  var timer = null;
  var nonce = '';
  // Cookie settings from the data block (subdomain index, domain), kept for writes after consent. domain is undefined
  // until known: a page without a data block finds it on the first write.
  var cfg = { i: 1, domain: undefined };
  // Tracking consent as the page knows it; null in chosen until metaCapi.consent() is called before start.
  var consent = true;
  var chosen = null;
  var started = false;
  var crawler = false;
  // fbq('dataProcessingOptions', ...) arguments for the whole page, or null.
  var pageProcessing = null;
  var pageIds = [];
  var reported = false;
  // While the in-app browser is asked for a click ID: Pixel calls wait in pending, and so does the Pixel's own script.
  var holding = false;
  var holdTimer = null;
  var afterHold = null;
  var askedInApp = false;

  function warn(e) {
    if (warned) return;
    warned = true;
    try {
      win.console.warn('[meta-capi]', (e && e.message) || String(e));
    } catch (e2) {
      // Nowhere left to report to.
    }
  }

  // Runs fn(arg); anything it throws is swallowed (and reported once).
  function guard(fn, arg) {
    try {
      return fn(arg);
    } catch (e) {
      warn(e);
    }
  }

  function randomBytes(n) {
    var out = [];
    var i;
    try {
      var c = (win && win.crypto) || (typeof crypto !== 'undefined' ? crypto : null);
      var a = c.getRandomValues(new Uint8Array(n));
      for (i = 0; i < n; i++) out.push(a[i]);
      return out;
    } catch (e) {
      // No Web Crypto: fall back to Math.random.
    }
    for (i = 0; i < n; i++) out.push(Math.floor(Math.random() * 256));
    return out;
  }

  // 128 random bits as 32 lowercase hex characters (URL-safe).
  function newEventId() {
    var b = randomBytes(16);
    var s = '';
    for (var i = 0; i < 16; i++) s += (b[i] + 256).toString(16).slice(1);
    return s;
  }

  function isValidCookie(value) {
    return !!value && value.length <= MAX_COOKIE_LENGTH && COOKIE_RE.test(value);
  }

  function isObject(value) {
    return !!value && typeof value === 'object' && !Array.isArray(value);
  }

  function methodFor(name) {
    return STANDARD.indexOf(name) >= 0 ? 'track' : 'trackCustom';
  }

  // Every call goes through window.fbq, in order, once it exists.
  function flush() {
    while (pending.length && typeof win.fbq === 'function') guard(callFbq, pending.shift());
  }

  function callFbq(args) {
    win.fbq.apply(win, args);
  }

  function poll() {
    timer = null;
    flush();
    if (!pending.length) return;
    // Gave up waiting for the Pixel: drop silently.
    if (Date.now() >= deadline) pending.length = 0;
    else timer = win.setTimeout(guard, POLL_MS, poll);
  }

  function send(args) {
    if (!win) return;
    pending.push(args);
    drain();
  }

  function drain() {
    if (holding) return;
    flush();
    if (pending.length && !timer) {
      deadline = Date.now() + WAIT_MS;
      timer = win.setTimeout(guard, POLL_MS, poll);
    }
  }

  // Every value of a cookie, in document.cookie's order: a host-only cookie and a domain one of the same name both show.
  function readCookies(name) {
    var parts = String(doc.cookie || '').split(';');
    var values = [];
    for (var i = 0; i < parts.length; i++) {
      var p = parts[i].replace(/^\s+/, '');
      var k = p.indexOf('=');
      if (k > 0 && p.slice(0, k) === name) values.push(p.slice(k + 1));
    }
    return values;
  }

  // The server's rules for several values (MetaCookies.SelectClickId, SelectBrowserId): _fbc, the valid value with the
  // newest creation time (ties keep the first); _fbp, the first valid value, the one Meta's Pixel reads.
  function pickClickId(values) {
    var best = null;
    for (var k = 0; k < values.length; k++) {
      if (isValidCookie(values[k]) && (best === null || newer(values[k].split('.')[2], best.split('.')[2]))) best = values[k];
    }
    return best;
  }

  function pickBrowserId(values) {
    for (var k = 0; k < values.length; k++) {
      if (isValidCookie(values[k])) return values[k];
    }
    return null;
  }

  function newer(time, than) {
    time = time.replace(/^0+/, '');
    than = than.replace(/^0+/, '');
    return time.length > than.length || (time.length === than.length && time > than);
  }

  function hasCookie(name, value) {
    return readCookies(name).indexOf(value) >= 0;
  }

  // The domain to write on. The data block names it (the server's registrable domain by the Public Suffix List, or
  // null for host-only: an IP address, localhost). A page without one (a static page) finds it as Meta's Pixel does:
  // the shortest suffix of the host that the browser accepts as a cookie domain, which the browser decides by its own
  // Public Suffix List.
  function cookieDomain() {
    if (cfg.domain !== undefined) return cfg.domain;
    cfg.domain = null;
    var host = String(win.location.hostname || '');
    if (host.indexOf('.') < 0 || /^[\d.]+$/.test(host) || host.indexOf(':') >= 0) return null;
    var labels = host.split('.');
    for (var k = 2; k <= labels.length; k++) {
      var d = labels.slice(labels.length - k).join('.');
      doc.cookie = '_capi_probe=1; path=/; max-age=10; domain=' + d;
      if (hasCookie('_capi_probe', '1')) {
        doc.cookie = '_capi_probe=; path=/; max-age=0; domain=' + d;
        cfg.domain = d;
        cfg.i = k - 1;
        break;
      }
    }
    return cfg.domain;
  }

  function writeCookie(name, value, expireHostOnly, maxAge) {
    var c = name + '=' + value + '; path=/; max-age=' + (maxAge || MAX_AGE) + '; samesite=lax' +
      (win.location.protocol === 'https:' ? '; secure' : '');
    var domain = cookieDomain();
    if (domain) {
      // A host-only sibling beside the domain cookie goes, so the browser keeps one value per name.
      if (expireHostOnly) doc.cookie = name + '=; path=/; max-age=0';
      doc.cookie = c + '; domain=' + domain;
      // A domain the page is not on is rejected: fall back to host-only.
      if (hasCookie(name, value)) return;
    }
    doc.cookie = c;
  }

  function syncCookies() {
    var now = Date.now();
    var fbclid = new URLSearchParams(win.location.search || '').get('fbclid');
    var fbcs = readCookies('_fbc');
    var fbc = pickClickId(fbcs);
    if (fbclid && FBCLID_RE.test(fbclid) && !(fbc && fbc.split('.')[3] === fbclid)) {
      writeCookie('_fbc', 'fb.' + cookieIndex() + '.' + now + '.' + fbclid, fbcs.length > 1);
    } else if (fbc && fbcs.length > 1 && cookieDomain()) {
      writeCookie('_fbc', fbc, true);
    } else if (!fbc) {
      // No click ID in the URL or the cookies: an in-app browser may still know the ad's.
      askInApp();
    }
    var fbps = readCookies('_fbp');
    var fbp = pickBrowserId(fbps);
    if (!fbp) {
      var b = randomBytes(4);
      var r = (b[0] * 16777216 + b[1] * 65536 + b[2] * 256 + b[3]) % 2147483647;
      writeCookie('_fbp', 'fb.' + cookieIndex() + '.' + now + '.' + r, fbps.length > 1);
    } else if (fbps.length > 1 && cookieDomain()) {
      writeCookie('_fbp', fbp, true);
    }
    fillClientIp();
  }

  // _fbi: the visitor's address as the browser reaches the site (IPv6 first where the browser has it), asked of the
  // endpoint the data block names, at most once a day; the server prefers it to the request's address, as Meta's
  // Parameter Builder does. Only with consent (syncCookies runs only then).
  function fillClientIp() {
    if (!cfg.ip || typeof win.fetch !== 'function' || IP_RE.test(readCookies('_fbi')[0] || '')) return;
    win.fetch(cfg.ip, { credentials: 'omit', cache: 'no-store' }).then(function (r) {
      return r.ok ? r.text() : '';
    }).then(function (text) {
      var ip = String(text || '').replace(/^\s+|\s+$/g, '').toLowerCase();
      if (IP_RE.test(ip) && consent) {
        guard(function () {
          writeCookie('_fbi', ip, false, FBI_MAX_AGE);
        });
      }
    }).catch(function () {});
  }

  // Facebook's and Instagram's in-app browsers answer the page's question for the ad's click ID (Extended Browser
  // Properties): on iOS a WebKit message handler whose postMessage('clickID') returns a promise, on Android an XHR to
  // properties://browser/clickID in app versions that support it. Asked once per page; the Pixel calls wait for the
  // answer, never longer than IN_APP_WAIT_MS.
  function askInApp() {
    var w = win.webkit;
    var ios = w && w.messageHandlers && w.messageHandlers.browserProperties;
    var ua = String(win.navigator && win.navigator.userAgent);
    var fb = ua.indexOf('FB_IAB') >= 0;
    var m = /(FBAV|Instagram)[\/\s](\d+)/.exec(ua);
    var android = ua.indexOf('Android') >= 0 && (fb || ua.indexOf('Instagram') >= 0) && m &&
      Number(m[2]) >= (fb ? IN_APP_ANDROID_FB : IN_APP_ANDROID_INSTAGRAM) && win.XMLHttpRequest;
    if (askedInApp || !(ios || android)) return;
    askedInApp = holding = true;
    holdTimer = win.setTimeout(guard, IN_APP_WAIT_MS, release);
    // The cookie first, then the held calls: the Pixel reads _fbc when its events fire.
    var done = function (clickId) {
      guard(fromInApp, clickId);
      guard(release);
    };
    try {
      if (ios) {
        ios.postMessage('clickID').then(done, release);
      } else {
        var x = new win.XMLHttpRequest();
        x.open('GET', 'properties://browser/clickID');
        x.onload = function () {
          done(x.status >= 200 && x.status < 300 && x.responseText);
        };
        x.onerror = release;
        x.send();
      }
    } catch (e) {
      // A bridge that throws (or answers no promise) answers nothing: the Pixel calls go on at once.
      warn(e);
      release();
    }
  }

  // A late answer is still stored (the server's later events read the cookie), but only with consent, a click ID the
  // URL's rules accept, and no _fbc written meanwhile.
  function fromInApp(clickId) {
    var fbcs = readCookies('_fbc');
    if (consent && typeof clickId === 'string' && FBCLID_RE.test(clickId) && !pickClickId(fbcs)) {
      // Any value still there is invalid: a host-only one goes.
      writeCookie('_fbc', 'fb.' + cookieIndex() + '.' + Date.now() + '.' + clickId, fbcs.length > 0);
    }
  }

  function release() {
    if (!holding) return;
    holding = false;
    win.clearTimeout(holdTimer);
    if (afterHold) guard(afterHold);
    afterHold = null;
    drain();
  }

  // The subdomain index of a new value: the data block's, or the number of dots of the domain found.
  function cookieIndex() {
    cookieDomain();
    return cfg.i;
  }

  // Withdrawn consent: the identifiers go too (host-only and on the domain).
  function clearCookies() {
    var names = ['_fbc', '_fbp', '_fbi'];
    for (var k = 0; k < names.length; k++) {
      if (!readCookies(names[k]).length) continue;
      doc.cookie = names[k] + '=; path=/; max-age=0';
      if (cookieDomain()) doc.cookie = names[k] + '=; path=/; max-age=0; domain=' + cfg.domain;
    }
  }

  function whole(n) {
    return typeof n === 'number' && n >= 0 && n % 1 === 0 ? n : 0;
  }

  // The data block's {options, country, state} as fbq arguments: LDU with its location, or [] alone; null if absent.
  function processingArgs(p) {
    if (!isObject(p) || !Array.isArray(p.options)) return null;
    if (p.options.indexOf('LDU') < 0) return ['dataProcessingOptions', []];
    return ['dataProcessingOptions', ['LDU'], whole(p.country), whole(p.state)];
  }

  function setConsent(granted) {
    if (crawler) return;
    if (!started) {
      chosen = granted;
      return;
    }
    if (granted === consent) return;
    consent = granted;
    send(['consent', granted ? 'grant' : 'revoke']);
    if (granted) guard(syncCookies);
    else guard(clearCookies);
  }

  // Meta's Pixel queue stub: calls wait in fbq.queue until fbevents.js drains them. first (consent, data
  // processing options) goes before init, as Meta asks.
  function loadPixel(pixelIds, first) {
    var q = function () {
      if (q.callMethod) q.callMethod.apply(q, arguments);
      else q.queue.push(arguments);
    };
    q.push = q;
    q.loaded = true;
    q.version = '2.0';
    q.queue = [];
    win.fbq = q;
    if (!win._fbq) win._fbq = q;
    for (var k = 0; k < first.length; k++) q.apply(win, first[k]);
    for (var p = 0; p < pixelIds.length; p++) q('init', pixelIds[p]);
    q('track', 'PageView');
    if (holding) afterHold = injectPixel;
    else injectPixel();
  }

  function injectPixel() {
    var s = doc.createElement('script');
    s.async = true;
    s.src = 'https://connect.facebook.net/en_US/fbevents.js';
    if (nonce) s.setAttribute('nonce', nonce);
    (doc.head || doc.documentElement).appendChild(s);
  }

  function readBlock() {
    var d = null;
    try {
      var el = doc.getElementById('meta-capi-data');
      if (el) d = JSON.parse(el.textContent);
    } catch (e) {
      warn(e);
    }
    return d && typeof d === 'object' ? d : {};
  }

  function start() {
    var d = readBlock();
    var i = d.subdomainIndex;
    var named = 'cookieDomain' in d;
    cfg = {
      i: typeof i === 'number' && i >= 0 && i % 1 === 0 ? i : 1,
      domain: typeof d.cookieDomain === 'string' && /^[A-Za-z0-9.-]+$/.test(d.cookieDomain) ? d.cookieDomain : named ? null : undefined
    };
    cfg.ip = typeof d.ipEndpoint === 'string' && /^(https?:\/\/|\/[^/])/.test(d.ipEndpoint) ? d.ipEndpoint : null;
    if (d.crawler === true) {
      // A crawler: no Pixel, no cookies, no events.
      crawler = true;
      return;
    }
    // A page a cache shares between visitors says nothing of this visitor: no consent (the Pixel waits, revoked, until
    // the server or metaCapi.consent() tells), no event IDs; its declared conversions are reported by collect().
    var shared = d.shared === true;
    consent = !shared && d.consent !== false;
    pageProcessing = processingArgs(d.dataProcessingOptions);
    var first = [];
    if (!consent) first.push(['consent', 'revoke']);
    if (pageProcessing) first.push(pageProcessing);
    if (consent) guard(syncCookies);
    var pixelIds = pixelIdList(d.pixelIds);
    if (!pixelIds.length && isPixelId(d.pixelId)) pixelIds = [d.pixelId];
    if (d.loadPixel === true && pixelIds.length && !win.fbq) {
      guard(function () {
        loadPixel(pixelIds, first);
      });
    } else {
      for (var f = 0; f < first.length; f++) send(first[f]);
    }
    started = true;
    var events = consent && Array.isArray(d.events) ? d.events : [];
    for (var k = 0; k < events.length; k++) fire(events[k], events[k] && events[k].eventId);
    if (shared) guard(collect, d);
    if (chosen !== null) setConsent(chosen);
    scheduleReport(d.beacon);
  }

  // One event to the Pixel, with its event ID, its own data processing options and its pixels.
  function fire(ev, eventId) {
    if (!ev || typeof ev.name !== 'string' || !ev.name) return;
    var method = ev.method === 'track' || ev.method === 'trackCustom' ? ev.method : methodFor(ev.name);
    var data = isObject(ev.data) ? ev.data : {};
    var options = typeof eventId === 'string' && eventId ? { eventID: eventId } : null;
    var own = processingArgs(ev.dataProcessingOptions);
    // An event with its own data processing options: set them for it alone, then restore the page's.
    if (own) send(own);
    if (options) remember(eventId);
    var only = pixelIdList(ev.pixelIds);
    if (only.length) {
      // The server sent this event to these pixels only: so does the browser.
      for (var o = 0; o < only.length; o++) {
        var single = [method === 'track' ? 'trackSingle' : 'trackSingleCustom', only[o], ev.name, data];
        if (options) single.push(options);
        send(single);
      }
    } else {
      var args = [method, ev.name, data];
      if (options) args.push(options);
      send(args);
    }
    if (own) send(pageProcessing || ['dataProcessingOptions', []]);
  }

  // A shared page: each declared conversion gets an event ID minted here, and its server copy is sent with it (POST
  // collect, the token the page carries); the server answers whether this visitor may be tracked and which it took.
  // Only those are fired to the Pixel, with the same IDs, so both copies deduplicate.
  function collect(d) {
    if (typeof d.collect !== 'string' || typeof win.fetch !== 'function') return;
    var declared = Array.isArray(d.declared) ? d.declared : [];
    var posted = [];
    var body = [];
    for (var k = 0; k < declared.length && body.length < 10; k++) {
      var ev = declared[k];
      if (!ev || typeof ev.name !== 'string' || typeof ev.token !== 'string') continue;
      var id = newEventId();
      posted.push({ ev: ev, id: id });
      body.push({ id: id, token: ev.token });
    }
    win.fetch(d.collect, {
      method: 'POST', credentials: 'same-origin', keepalive: true,
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ v: 1, events: body })
    }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (reply) {
      if (!isObject(reply)) return;
      if (reply.consent === true && chosen === null) setConsent(true);
      var accepted = Array.isArray(reply.accepted) ? reply.accepted : [];
      for (var p = 0; p < posted.length; p++) {
        if (accepted.indexOf(posted[p].id) >= 0) guard(fireTaken, posted[p]);
      }
    }).catch(function () {});
  }

  function fireTaken(p) {
    fire(p.ev, p.id);
  }

  function remember(id) {
    if (pageIds.length < MAX_REPORTED_IDS && pageIds.indexOf(id) < 0) pageIds.push(id);
  }

  // Whether Meta's library runs: fbevents.js gives the base code's queue stub a callMethod; a blocked one never does.
  function pixelLoaded() {
    var f = win.fbq;
    return typeof f === 'function' && (typeof f.callMethod === 'function' || !Array.isArray(f.queue));
  }

  // Once per page view: was the Pixel blocked, and which events did this page hand it. No personal data.
  function report(url) {
    if (reported || !consent) return;
    reported = true;
    var body = JSON.stringify({ v: 1, blocked: !pixelLoaded(), ids: pageIds });
    win.navigator.sendBeacon(url, body);
  }

  function scheduleReport(url) {
    if (typeof url !== 'string' || url.charAt(0) !== '/' || url.charAt(1) === '/') return;
    if (!win.navigator || typeof win.navigator.sendBeacon !== 'function') return;
    win.setTimeout(guard, REPORT_MS, function () { report(url); });
    if (typeof win.addEventListener === 'function') {
      win.addEventListener('pagehide', function () { guard(report, url); });
    }
  }

  function isPixelId(v) {
    return typeof v === 'string' && /^[0-9]{1,20}$/.test(v);
  }

  function pixelIdList(v) {
    var ids = [];
    if (Array.isArray(v)) for (var i = 0; i < v.length; i++) if (isPixelId(v[i])) ids.push(v[i]);
    return ids;
  }

  function safeStart() {
    guard(start);
  }

  var api = {
    track: function (name, data) {
      var id = newEventId();
      try {
        // Without consent the ID is still returned (the server, also without consent, records nothing).
        if (typeof name === 'string' && name && consent && !crawler) {
          remember(id);
          send([methodFor(name), name, isObject(data) ? data : {}, { eventID: id }]);
        }
      } catch (e) {
        warn(e);
      }
      return id;
    },
    eventHeaders: function (eventId) {
      return typeof eventId === 'string' && eventId ? { 'X-Meta-Event-Id': eventId } : {};
    },
    newEventId: newEventId,
    consent: function (granted) {
      guard(setConsent, granted === true);
    },
    version: VERSION
  };

  if (!win) return api;
  try {
    var cs = doc.currentScript;
    if (cs) nonce = cs.nonce || cs.getAttribute('nonce') || '';
  } catch (e) {
    // No nonce: the injected Pixel script carries none.
  }
  try {
    win.__metaCapi = api;
    win.metaCapi = api;
    if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', safeStart);
    else safeStart();
  } catch (e) {
    warn(e);
  }
  return api;
})(typeof window !== 'undefined' ? window : null);
