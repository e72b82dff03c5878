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

// The cookie matrix, sent once as its dimensions and a list of cases (indexes into them), so that tens of thousands
// of requests cross the process boundary in one call: hosts (Host headers), domainLists (the constructor's domain
// list, or null for none), fbcs and fbps (existing cookie values, null for absent), sources ({ query, referer }).
// Each case runs ParamBuilder.processRequest on a new builder, the query parsed as the package's own request adaptor
// parses it. Returns fbcValid/fbpValid (whether the builder accepts each existing value at all) and, per case,
// { c, p } (the _fbc/_fbp values it would write, appendix included, or null), { fbc, fbp } (getFbc()/getFbp() != null:
// a value it would send), i (its subdomain index) and e (what it threw, or null).
function processRequests(callback, matrix) {
  try {
    const accepts = (name) => (value) =>
      value != null && new ParamBuilder()._preprocessCookie({ [name]: value }, name) != null;
    const queries = matrix.sources.map(({ query }) => {
      try {
        return Object.fromEntries(new URL('/' + query, 'http://n').searchParams);
      } catch (e) {
        return e;
      }
    });
    const results = matrix.cases.map(([host, domains, fbc, fbp, source]) => {
      const domainList = matrix.domainLists[domains];
      const builder = domainList ? new ParamBuilder(domainList) : new ParamBuilder();
      const cookies = {};
      if (matrix.fbcs[fbc] != null) cookies._fbc = matrix.fbcs[fbc];
      if (matrix.fbps[fbp] != null) cookies._fbp = matrix.fbps[fbp];
      try {
        if (queries[source] instanceof Error) throw queries[source];
        const written = builder.processRequest(matrix.hosts[host], queries[source], cookies, matrix.sources[source].referer, null, null);
        const set = {};
        for (const cookie of written) set[cookie.name] = cookie.value;
        return {
          c: set._fbc || null, p: set._fbp || null, fbc: builder.getFbc() != null, fbp: builder.getFbp() != null,
          i: builder.sub_domain_index, e: null,
        };
      } catch (e) {
        return { c: null, p: null, fbc: false, fbp: false, i: -1, e: String(e && e.message ? e.message : e) };
      }
    });
    callback(null, {
      fbcValid: matrix.fbcs.map(accepts('_fbc')),
      fbpValid: matrix.fbps.map(accepts('_fbp')),
      results,
    });
  } catch (e) {
    callback(e);
  }
}

// The client IP decision: for each case [fbi, remote] (the _fbi cookie or null, the connection's address or null),
// what getClientIpAddress() returns after processRequest, its appendix stripped, or null.
function clientIps(callback, cases) {
  try {
    callback(null, cases.map(([fbi, remote]) => {
      const builder = new ParamBuilder();
      builder.processRequest('www.example.com', {}, fbi == null ? {} : { _fbi: fbi }, null, null, remote);
      return stripAppendix(builder.getClientIpAddress());
    }));
  } catch (e) {
    callback(e);
  }
}

module.exports = { hash, normalizeAndHash, processRequests, clientIps };
