'use strict';
// Node host for the C# tests (Jering.Javascript.NodeJS, InvokeFromFileAsync): runs the built
// browser snippet (client/dist/meta-capi.js) in a fake browser and reports what it did.
// Jering calls a plain (non-async) export as fn(callback, ...args) and expects callback(error, result);
// the exports stay plain functions for that reason and run their async work inside.

const fs = require('node:fs');
const path = require('node:path');
const { createBrowser } = require(path.join(__dirname, '../../../client/test/fake-browser.cjs'));

function load(options) {
  options = options || {};
  if (!options.snippetPath) throw new Error('options.snippetPath (absolute path to client/dist/meta-capi.js) is required');
  const code = fs.readFileSync(options.snippetPath, 'utf8');
  const browser = createBrowser({
    url: options.url || 'https://shop.example.com/',
    cookie: options.cookie || '',
    dataBlockJson: options.dataBlockJson == null ? null : options.dataBlockJson,
    fbqPresent: !!options.fbqPresent,
    fbqThrows: !!options.fbqThrows,
    cookieThrows: !!options.cookieThrows,
    crypto: options.crypto,
    nonce: options.nonce,
    readyState: options.readyState || 'complete',
    timers: 'real',
  });
  browser.run(code, options.snippetPath);
  if (browser.document.readyState === 'loading') setTimeout(() => browser.domContentLoaded(), 0);
  return browser;
}

function wait(options) {
  const ms = options && typeof options.waitMs === 'number' && options.waitMs >= 0 ? options.waitMs : 50;
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function run(callback, options) {
  runAsync(options).then((result) => callback(null, result), (e) => callback(e));
}

async function runAsync(options) {
  let browser;
  try {
    browser = load(options);
    if (Array.isArray(options.consent)) {
      // A cookie banner's choices, in order, once the page has started.
      await new Promise((resolve) => setTimeout(resolve, 0));
      for (const granted of options.consent) browser.window.metaCapi.consent(granted);
    }
    await wait(options);
    const api = browser.window.metaCapi;
    return {
      fbqCalls: browser.clean(browser.fbqCalls),
      cookies: browser.cookies(),
      cookieWrites: browser.cookieWrites.slice(),
      errors: browser.errors.slice(),
      warnings: browser.warnings.slice(),
      api: api && typeof api === 'object' ? Object.keys(api) : [],
    };
  } finally {
    if (browser) browser.dispose();
  }
}

function track(callback, options) {
  trackAsync(options).then((result) => callback(null, result), (e) => callback(e));
}

async function trackAsync(options) {
  let browser;
  try {
    browser = load(options);
    const api = browser.window.metaCapi;
    if (!api) throw new Error('window.metaCapi is not defined after loading the snippet');
    const eventId = api.track(options.name, options.data);
    const headers = browser.clean(api.eventHeaders(eventId));
    await wait(options);
    return {
      eventId,
      headers,
      fbqCalls: browser.clean(browser.fbqCalls),
      errors: browser.errors.slice(),
    };
  } finally {
    if (browser) browser.dispose();
  }
}

module.exports = { run, track };
