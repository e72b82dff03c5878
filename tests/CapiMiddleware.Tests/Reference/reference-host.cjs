'use strict';
// Meta's Parameter Builder (npm capi-param-builder-nodejs, a dev dependency), called from the C# tests through
// Jering: the oracle for normalized and hashed user data. Its trailing ".XXXXXXXX" appendix names the library that
// wrote a value; it is not part of the hash and is stripped here.
const { getNormalizedAndHashedPII } = require('capi-param-builder-nodejs/src/piiUtil/PIIUtil.js');

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

module.exports = { hash };
