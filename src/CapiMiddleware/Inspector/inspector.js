// The inspector page: polls events.json for what changed and shows each event's Pixel copy and server copy side by
// side. Everything from the server is data (event names and URLs come from visitors): it goes into the page through
// textContent and attributes, never parsed as HTML.
(function () {
  'use strict';

  var POLL_MS = 1000;
  var eventsUrl = new URL('events.json', document.currentScript.src);
  var list = document.getElementById('events');
  var empty = document.getElementById('empty');
  var mode = document.getElementById('mode');
  var live = document.getElementById('live');
  var reach = document.getElementById('reach');
  var metaView = document.getElementById('meta-view');
  var metaViewShown = null; // the JSON last rendered, so an unchanged view is not rebuilt every second
  var cards = new Map(); // eventName + '\n' + eventId -> { event, element }
  var version = 0;

  var STATUS = {
    queued: 'queued',
    sent: 'sent to Meta',
    shown: 'shown, not sent',
    deferred: 'deferred: will retry',
    paused: 'paused: token problem',
    rejected: 'rejected by Meta',
    dropped: 'dropped',
    invalid: 'not queued: invalid'
  };

  var HANDOVER = {
    page: 'handed to the page that answered the request',
    redirect: 'carried across the redirect to the next page',
    browser: 'fired by the page itself (metaCapi.track), which told the server this event ID'
  };

  var ID_FROM = {
    server: 'event ID set by the server (UseEventId or the event itself)',
    browser: 'event ID sent by the browser (X-Meta-Event-Id), accepted by this endpoint',
    generated: 'event ID generated at random by the library'
  };

  var BROWSER_COPY = {
    both: 'both: the Pixel sent its copy too',
    serverOnly: 'server only: the Pixel was blocked on that page'
  };

  function percent(part, whole) {
    return whole > 0 ? Math.round((100 * part) / whole) + '%' : '0%';
  }

  // "The Pixel was blocked on 23% of page views; 41 of 180 Purchases reached Meta only through the server."
  function showReach(data) {
    var s = data.summary;
    if (!data.reportsPixelBlocking || !s) {
      reach.textContent = 'Pixel-blocking reports are off (MetaConversions:ReportPixelBlocking).';
      return;
    }
    if (!s.pageViews) {
      reach.textContent = 'No page has reported yet whether the Pixel loaded: pages report a few seconds after they open.';
      return;
    }
    var parts = ['The Pixel was blocked on ' + percent(s.pixelBlocked, s.pageViews) + ' of page views (' +
      s.pixelBlocked + ' of ' + s.pageViews + ')'];
    Object.keys(s.events).forEach(function (name) {
      var n = s.events[name];
      parts.push(n.serverOnly + ' of ' + (n.both + n.serverOnly) + ' ' + name + ' events reached Meta only through the server');
    });
    reach.textContent = parts.join('; ') + '.';
  }

  function number(value, digits) {
    return value === null || value === undefined ? '—' : Number(value).toFixed(digits === undefined ? 1 : digits).replace(/\.0$/, '');
  }

  function pct(value) {
    return value === null || value === undefined ? '—' : number(value) + '%';
  }

  function when(iso) {
    return iso ? time(iso) : '—';
  }

  // Meta's Dataset Quality figures per pixel, beside the library's own: its match quality estimate and identifier
  // coverage for the same event name, and the browser/server pairing the beacons saw.
  function showMetaView(dq) {
    var json = JSON.stringify(dq || null);
    if (json === metaViewShown) return;
    metaViewShown = json;
    metaView.textContent = '';
    if (!dq || !dq.enabled) {
      metaView.setAttribute('data-state', 'off');
      metaView.appendChild(el('p', 'meta-off', "Meta's view: not enabled. Set MetaConversions:DatasetQuality:Enabled to fetch Meta's own " +
        'match quality, event coverage and deduplication figures (Dataset Quality API).'));
      return;
    }
    metaView.setAttribute('data-state', 'on');
    dq.pixels.forEach(function (p) { metaView.appendChild(metaPixel(p, dq.floors || {})); });
  }

  function metaPixel(p, floors) {
    var box = el('div', 'meta-pixel');
    box.setAttribute('data-pixel-id', p.pixelId);
    box.setAttribute('data-status', p.status);
    box.appendChild(el('h2', null, "Meta's view of pixel " + p.pixelId));
    var state;
    if (p.status === 'noToken') {
      state = 'Not fetched: no access token for this pixel (MetaConversions:DatasetQuality:AccessToken).';
    } else if (p.status === 'notFetchedYet') {
      state = 'Not fetched yet' + (p.nextAttemptAt ? ': next attempt at ' + when(p.nextAttemptAt) : '') + '.';
    } else {
      state = (p.fetchedAt ? 'Fetched at ' + when(p.fetchedAt) : 'Never fetched') + ' · next at ' + when(p.nextAttemptAt);
      if (p.status === 'failed') state += ' · last error (' + p.consecutiveFailures + ' in a row): ' + p.lastError;
    }
    box.appendChild(el('p', 'meta-state' + (p.status === 'failed' ? ' error' : ''), state));
    if (!p.events.length) {
      if (p.status === 'fetched') box.appendChild(el('p', 'meta-state', 'Meta reports no web events for this dataset.'));
      return box;
    }

    var table = el('table', 'meta-table');
    var head = el('tr');
    ['Event', 'Match quality: Meta / library', 'Match keys: Meta (library)', 'Event coverage (goal)',
      'Dedup keys: browser / server / deduplicated', 'Seen by beacons: both / server only', 'Freshness', 'Additional conversions']
      .forEach(function (title) { head.appendChild(el('th', null, title)); });
    table.appendChild(el('thead')).appendChild(head);
    var body = table.appendChild(el('tbody'));
    var diagnostics = [];
    p.events.forEach(function (e) {
      var row = el('tr');
      row.setAttribute('data-event-name', e.eventName);
      row.appendChild(el('th', 'meta-event', e.eventName));

      var mq = e.matchQuality || {};
      var score = el('td', 'meta-score');
      var meta = el('span', 'meta-figure', mq.compositeScore === null ? '—' : number(mq.compositeScore) + '/10');
      if (mq.compositeScore !== null && floors.matchQuality !== null && mq.compositeScore < floors.matchQuality) meta.classList.add('below');
      score.appendChild(meta);
      score.appendChild(el('span', 'local-figure', e.localMatchQuality
        ? ' / ' + number(e.localMatchQuality.averageScore) + ' (' + e.localMatchQuality.events + (e.localMatchQuality.events === 1 ? ' event)' : ' events)') : ' / —'));
      row.appendChild(score);

      var keys = el('td', 'meta-keys');
      (mq.matchKeys || []).forEach(function (k) {
        var chip = el('span', 'meta-key', k.identifier + ' ' + pct(k.coverage) + (k.localCoverage !== null ? ' (' + pct(k.localCoverage) + ')' : ''));
        if (k.potentialAcrIncreaseDescription) chip.title = k.potentialAcrIncreaseDescription;
        keys.appendChild(chip);
      });
      if (!keys.childNodes.length) keys.textContent = '—';
      row.appendChild(keys);

      var cov = el('td', 'meta-coverage');
      if (e.eventCoverage) {
        var c = el('span', 'meta-figure', pct(e.eventCoverage.percentage));
        var goal = floors.eventCoverage !== null ? floors.eventCoverage : e.eventCoverage.goalPercentage;
        if (goal !== null && e.eventCoverage.percentage !== null && e.eventCoverage.percentage < goal) c.classList.add('below');
        cov.appendChild(c);
        cov.appendChild(document.createTextNode(' (' + pct(e.eventCoverage.goalPercentage) + ')'));
        cov.title = [e.eventCoverage.description, e.eventCoverage.potentialAcrIncreaseDescription].filter(Boolean).join(' ');
      } else {
        cov.textContent = '—';
      }
      row.appendChild(cov);

      var dedupe = el('td', 'meta-dedupe');
      (e.dedupeKeys || []).forEach(function (k) {
        dedupe.appendChild(el('span', 'meta-key', k.dedupeKey + ' ' + pct(k.browserEvents) + ' / ' + pct(k.serverEvents) + ' / ' + pct(k.overallBrowserCoverage)));
      });
      if (!dedupe.childNodes.length) dedupe.textContent = '—';
      row.appendChild(dedupe);

      row.appendChild(el('td', 'local-reach', e.pixelReach ? e.pixelReach.both + ' / ' + e.pixelReach.serverOnly : '—'));
      var fresh = el('td', 'meta-freshness', e.dataFreshness ? String(e.dataFreshness.uploadFrequency || '—').replace(/_/g, ' ') : '—');
      if (e.dataFreshness && e.dataFreshness.description) fresh.title = e.dataFreshness.description;
      row.appendChild(fresh);
      var acr = el('td', 'meta-acr', e.acr ? '+' + pct(e.acr.percentage)
        : e.potentialAcrIncrease ? 'up to +' + pct(e.potentialAcrIncrease.percentage) + ' if sent by the server' : '—');
      acr.title = (e.acr || e.potentialAcrIncrease || {}).description || '';
      row.appendChild(acr);
      body.appendChild(row);

      (mq.diagnostics || []).forEach(function (d) { diagnostics.push({ eventName: e.eventName, d: d }); });
    });
    box.appendChild(table);

    if (diagnostics.length) {
      var list = el('ul', 'meta-diagnostics');
      diagnostics.forEach(function (x) {
        var item = el('li');
        item.appendChild(el('strong', null, x.eventName + ': ' + x.d.name));
        item.appendChild(document.createTextNode(' (' + pct(x.d.percentage) + ' of ' + number(x.d.totalEventCount, 0) + ' events). ' + (x.d.solution || x.d.description || '')));
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    return box;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function keyOf(e) {
    return e.eventName + '\n' + e.eventId;
  }

  function time(iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? '' : date.toLocaleTimeString();
  }

  function pixelCall(handed) {
    return 'fbq(' + JSON.stringify(handed.method) + ', ' + JSON.stringify(handed.name) + ',\n' +
      JSON.stringify(handed.data || {}, null, 2) + ',\n' + JSON.stringify({ eventID: handed.eventId }) + ')';
  }

  function pixelSide(e) {
    var side = el('section', 'copy pixel');
    side.appendChild(el('h3', null, 'Pixel (browser)'));
    if (!e.pixel) {
      side.appendChild(el('p', 'how', e.actionSource && e.actionSource !== 'website'
        ? 'None: a ' + e.actionSource + ' event has no web page.'
        : 'None: no page was handed this event.'));
      return side;
    }
    side.appendChild(el('p', 'how', HANDOVER[e.pixel.handover] || e.pixel.handover));
    var call = e.pixel.event
      ? pixelCall(e.pixel.event)
      : 'fbq(…, ' + JSON.stringify(e.eventName) + ', {…}, ' + JSON.stringify({ eventID: e.eventId }) + ')';
    side.appendChild(el('pre', null, call));
    return side;
  }

  function serverSide(e) {
    var side = el('section', 'copy server');
    side.appendChild(el('h3', null, 'Server (Conversions API)'));
    side.appendChild(el('p', 'how', e.server
      ? (e.actionSource || 'event') + ' · ' + e.serverBytes + ' bytes on the wire, personal fields hashed'
      : e.serverBytes > 0 ? e.serverBytes + ' bytes: too large to keep here' : 'Not built: ' + (e.detail || 'refused')));
    if (e.server) side.appendChild(el('pre', null, JSON.stringify(e.server, null, 2)));
    return side;
  }

  function card(e) {
    var item = el('li', 'event');
    item.setAttribute('data-event-id', e.eventId);
    item.setAttribute('data-event-name', e.eventName);
    item.setAttribute('data-status', e.status);

    var head = el('div', 'head');
    head.appendChild(el('span', 'name', e.eventName));
    var id = el('code', 'id', e.eventId);
    if (e.eventIdFrom) {
      item.setAttribute('data-event-id-from', e.eventIdFrom);
      id.title = ID_FROM[e.eventIdFrom] || e.eventIdFrom;
    }
    head.appendChild(id);
    if (e.eventIdFrom === 'browser') head.appendChild(el('span', 'id-from', 'ID from the browser'));
    head.appendChild(el('span', 'status status-' + e.status, STATUS[e.status] || e.status));
    if (e.matchQuality) {
      var q = e.matchQuality;
      var quality = el('span', 'quality band-' + String(q.band).toLowerCase(),
        'match ' + q.band + ' ' + Number(q.score).toFixed(1) + '/10');
      quality.title = 'Identifiers: ' + (q.identifiers.join(' ') || 'none');
      head.appendChild(quality);
    }
    if (e.browserCopy) {
      item.setAttribute('data-browser-copy', e.browserCopy);
      head.appendChild(el('span', 'reach reach-' + e.browserCopy, BROWSER_COPY[e.browserCopy] || e.browserCopy));
    }
    head.appendChild(el('time', null, time(e.recordedAt)));
    item.appendChild(head);

    var facts = [];
    if (e.fbtraceId) facts.push('fbtrace_id ' + e.fbtraceId);
    if (e.sendAttempts > 1) facts.push(e.sendAttempts + ' sends');
    if (e.detail && e.server) facts.push(e.detail);
    if (facts.length) item.appendChild(el('p', 'detail', facts.join(' · ')));

    var copies = el('div', 'copies');
    copies.appendChild(pixelSide(e));
    copies.appendChild(serverSide(e));
    item.appendChild(copies);

    if (e.matchQuality) {
      var ids = el('p', 'identifiers');
      e.matchQuality.identifiers.forEach(function (id) { ids.appendChild(el('span', 'chip', id)); });
      if (e.matchQuality.missing.length) ids.appendChild(el('span', 'missing', 'missing: ' + e.matchQuality.missing.join(', ')));
      item.appendChild(ids);
    }
    return item;
  }

  function apply(data) {
    if (data.full) {
      cards.forEach(function (c) { c.element.remove(); });
      cards.clear();
    }

    // Oldest first, so each new card goes on top.
    data.events.slice().reverse().forEach(function (e) {
      var key = keyOf(e);
      var existing = cards.get(key);
      var element = card(e);
      if (existing) {
        list.replaceChild(element, existing.element);
      } else {
        list.insertBefore(element, list.firstChild);
      }
      if (!data.full) element.classList.add('fresh');
      cards.set(key, { event: e, element: element });
    });

    cards.forEach(function (c, key) {
      if (c.event.sequence < data.oldestSequence) {
        c.element.remove();
        cards.delete(key);
      }
    });

    version = data.version;
    showReach(data);
    showMetaView(data.summary && data.summary.datasetQuality);
    empty.hidden = cards.size > 0;
    mode.textContent = data.sendsToMeta
      ? 'Sending to Meta, pixel ' + data.pixelId + (data.testEventCode ? ', test event code ' + data.testEventCode : '') + '.'
      : 'Showing, not sending: no MetaConversions:AccessToken is set, so events are written to the log instead.';
    mode.className = data.sendsToMeta ? 'sending' : 'showing';
  }

  function poll() {
    var url = new URL(eventsUrl.href);
    url.searchParams.set('since', String(version));
    fetch(url.href, { cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (data) {
        apply(data);
        live.textContent = 'Live · ' + cards.size + ' of the latest ' + data.capacity + ' events · updated ' + new Date().toLocaleTimeString();
        live.className = 'ok';
      }, function (error) {
        live.textContent = 'Could not update (' + error.message + '); trying again.';
        live.className = 'error';
      })
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  poll();
})();
