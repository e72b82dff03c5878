'use strict';
// Meta's Parameter Builder (npm capi-param-builder-nodejs, a dev dependency), called from the C# tests through
// Jering: the oracle for normalized and hashed user data and for the _fbc/_fbp cookie decisions. Its trailing
// ".XXXXXXXX" appendix names the library that wrote a value; it is not part of the hash and is stripped here.
const { getNormalizedPII, getNormalizedAndHashedPII } = require('capi-param-builder-nodejs/src/piiUtil/PIIUtil.js');
const { ParamBuilder } = require('capi-param-builder-nodejs');

function stripAppendix(value) {
  if (value == null) return null;
  const dot = value.lastIndexOf('.');
  return dot < 0 ? value : value.substring(0, dot);
}

// items: [{ value, type }] with Meta's type names (email, phone, first_name, ...); returns hashes or nulls.
function hash(callback, items) {
  try {
    callback(null, items.map((item) => stripAppendix(getNormalizedAndHashedPII(item.value, item.type))));
  } catch (e) {
    callback(e);
  }
}

// type: one of Meta's type names; values: strings. Returns [{ hash, normalized }]: the hash as hash() returns it and
// getNormalizedPII's string (what was hashed, for reports; null where it returns nothing).
function normalizeAndHash(callback, type, values) {
  try {
    callback(null, values.map((value) => ({
      hash: stripAppendix(getNormalizedAndHashedPII(value, type)),
      normalized: getNormalizedPII(value, type) || null,
    })));
  } catch (e) {
    callback(e);
  }
}

// cases: [{ host, domains (array or null), query (raw query string), cookies ({ _fbc, _fbp }), referer }].
// Runs ParamBuilder.processRequest on each, with the query parsed as the package's own request adaptor parses it.
// Returns [{ set: { name: value } (the cookies it would write, values as written), error }].
function processRequests(callback, cases) {
  try {
    callback(null, cases.map((c) => {
      try {
        const builder = Array.isArray(c.domains) ? new ParamBuilder(c.domains) : new ParamBuilder();
        const queries = Object.fromEntries(new URL('/' + (c.query || ''), 'http://n').searchParams);
        const written = builder.processRequest(c.host, queries, c.cookies || {}, c.referer || null, null, null);
        const set = {};
        for (const cookie of written) set[cookie.name] = cookie.value;
        return { set, error: null };
      } catch (e) {
        return { set: {}, error: String(e && e.message ? e.message : e) };
      }
    }));
  } catch (e) {
    callback(e);
  }
}

module.exports = { hash, normalizeAndHash, processRequests };
