'use strict';
// Meta's Node SDK (npm facebook-nodejs-business-sdk 24.0.1, a dev dependency), called from the C# tests through Jering:
// builds a ServerEvent from setter calls and returns the JSON the SDK would send, for the differential test of the
// wire event. 24.0.1 does not export OriginalEventData, AttributionData or AttributionSetting, though ServerEvent takes
// them: its own bundle is compiled here with those three names exported as well, so the SDK's own classes are used.
const fs = require('fs');
const path = require('path');
const Module = require('module');

function loadSdk() {
  const file = require.resolve('facebook-nodejs-business-sdk');
  const sdk = new Module(file, module);
  sdk.filename = file;
  sdk.paths = Module._nodeModulePaths(path.dirname(file));
  const exportsAlso = '\nexports.OriginalEventData = OriginalEventData;'
    + '\nexports.AttributionData = AttributionData;\nexports.AttributionSetting = AttributionSetting;\n';
  sdk._compile(fs.readFileSync(file, 'utf8') + exportsAlso, file);
  return sdk.exports;
}

const sdk = loadSdk();

// setters: { setName: value, ... }, called in order on target.
function apply(target, setters) {
  for (const [setter, value] of Object.entries(setters || {})) {
    if (typeof target[setter] !== 'function') throw new Error(`${target.constructor.name} has no ${setter}()`);
    target[setter](value);
  }
  return target;
}

// spec: { event, user, custom, contents, app, extinfo, original, attribution, attributionSetting }, each a setters
// object (contents: a list of them). Returns sent (JSON.stringify of normalize(), as the SDK's request sends it) and
// the normalize() of original_event_data and attribution_data, which ServerEvent.normalize() leaves as objects.
function build(callback, spec) {
  try {
    const event = apply(new sdk.ServerEvent(), spec.event);
    if (spec.user) event.setUserData(apply(new sdk.UserData(), spec.user));
    if (spec.custom || spec.contents) {
      const custom = new sdk.CustomData();
      if (spec.contents) custom.setContents(spec.contents.map((c) => apply(new sdk.Content(), c)));
      event.setCustomData(apply(custom, spec.custom));
    }
    if (spec.app) {
      const app = apply(new sdk.AppData(), spec.app);
      if (spec.extinfo) app.setExtinfo(apply(new sdk.ExtendedDeviceInfo(), spec.extinfo));
      event.setAppData(app);
    }
    let original = null;
    if (spec.original) event.setOriginalEventData(original = apply(new sdk.OriginalEventData(), spec.original));
    let attribution = null;
    if (spec.attribution) {
      attribution = apply(new sdk.AttributionData(), spec.attribution);
      if (spec.attributionSetting) attribution.setAttributionSetting(apply(new sdk.AttributionSetting(), spec.attributionSetting));
      event.setAttributionData(attribution);
    }
    callback(null, {
      sent: JSON.stringify(event.normalize()),
      original: original ? JSON.stringify(original.normalize()) : null,
      attribution: attribution ? JSON.stringify(attribution.normalize()) : null,
    });
  } catch (e) {
    callback(e);
  }
}

module.exports = { build };
