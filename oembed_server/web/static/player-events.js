/* Engagement reporting of the player page to POST /events: play sessions, played events,
 * quartiles playback ran over, attention spans; README "Engagement events" says what and
 * why. Every player ships this file, so its comments are few. The maths are pure, exported
 * for tests, and cut the timeline as oembed_server/domain/attention_spans.py does. */
(function (root) {
  "use strict";

  var MAX_SPANS = 100;
  var QUARTILES = [0, 25, 50, 75, 100];
  // Slack for float positions: a mark at 4.0015 s is reached at 4.0015 s, not 4.0016 s.
  var EPSILON = 1e-3;

  function spanLayout(duration) {
    if (duration <= MAX_SPANS) {
      return { count: Math.max(1, Math.ceil(duration)), seconds: 1 };
    }
    return { count: MAX_SPANS, seconds: duration / MAX_SPANS };
  }

  function spanIndex(position, duration) {
    var layout = spanLayout(duration);
    return Math.min(layout.count - 1, Math.max(0, Math.floor(position / layout.seconds)));
  }

  // The quartile marks a continuously played stretch [from, to] ran over.
  function quartilesCrossed(from, to, duration) {
    return QUARTILES.filter(function (q) {
      var mark = duration * q / 100;
      return from - EPSILON <= mark && mark <= to + EPSILON;
    });
  }

  // Adds one pass over the spans [from, to] touches; lastSpan is the span the current
  // pass already counted (-1 after a seek). Returns the new lastSpan.
  function countSpans(counts, lastSpan, from, to, duration) {
    var first = spanIndex(from, duration);
    var last = spanIndex(to, duration);
    for (var k = first; k <= last; k++) {
      if (k !== lastSpan) {
        counts[k] += 1;
        lastSpan = k;
      }
    }
    return lastSpan;
  }

  var maths = { spanLayout: spanLayout, spanIndex: spanIndex, quartilesCrossed: quartilesCrossed, countSpans: countSpans };
  if (typeof module === "object" && module.exports) {
    module.exports = maths; // node: the maths only, for tests
    return;
  }

  // --- reporting --------------------------------------------------------------------
  // A gap between two timeupdates longer than this was a jump (a seek or a loop), not play.
  var MAX_STEP_SECONDS = 2;
  var UPDATE_EVERY_MS = 15000;

  var player = root.mediaPlayer || {};
  var config = player.config || {};
  var events = config.events;
  var element = player.element;
  if (!events || !events.url || !events.token || !element) {
    return;
  }

  // 128 random bits, base64url: the session id (sent to HubSpot with every event) and the
  // session secret (sent only to our intake, which keeps a digest of it: only this player
  // can write to the session).
  function newSessionId() {
    var bytes = new Uint8Array(16);
    root.crypto.getRandomValues(bytes);
    var text = String.fromCharCode.apply(null, bytes);
    return root.btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function visitorFields() {
    var params = new URLSearchParams(root.location.search);
    var dnt = Boolean(events.dnt) || params.get("dnt") === "1" || root.navigator.globalPrivacyControl === true;
    var fields = { portalId: events.portalId === undefined ? null : events.portalId };
    if (fields.portalId === null) {
      fields.externalPlayContext = "EXTERNAL_PAGE";
    }
    if (dnt) {
      fields.dnt = true;
      return fields;
    }
    var pageUrl = params.get("hs_page_url") || document.referrer;
    var map = { contactUtk: params.get("hs_utk"), pageId: params.get("hs_page_id"),
                pageName: params.get("hs_page_name"), pageUrl: pageUrl, hsenc: params.get("_hsenc"),
                frameOrigin: frameOrigin() };
    Object.keys(map).forEach(function (key) {
      if (map[key]) {
        fields[key] = map[key];
      }
    });
    return fields;
  }

  // The page that frames the player, as the browser tells it: the server sends a contact
  // to HubSpot only when that page is one of the portal's sites.
  function frameOrigin() {
    if (root.parent === root) {
      return null;
    }
    var ancestors = root.location.ancestorOrigins;
    if (ancestors && ancestors.length && ancestors[0] !== "null") {
      return ancestors[0];
    }
    try {
      return document.referrer ? new URL(document.referrer).origin : null;
    } catch (error) {
      return null;
    }
  }

  var visitor = visitorFields();

  function send(body, useBeacon) {
    var report = { token: events.token, externalId: config.externalId, occurredTimestamp: Date.now(),
                   sessionSecret: session.secret };
    Object.keys(visitor).forEach(function (key) { report[key] = visitor[key]; });
    Object.keys(body).forEach(function (key) { report[key] = body[key]; });
    var text = JSON.stringify(report);
    // A string beacon goes as text/plain, which the intake accepts; it outlives the page.
    if (useBeacon && root.navigator.sendBeacon && root.navigator.sendBeacon(events.url, text)) {
      return;
    }
    if (root.fetch) {
      root.fetch(events.url, { method: "POST", body: text, keepalive: true, credentials: "same-origin",
                               headers: { "Content-Type": "application/json" } }).catch(function () {});
    }
  }

  var session = null;

  function startSession() {
    session = { id: newSessionId(), secret: newSessionId(), quartiles: {}, counts: null, duration: 0, lastSpan: -1,
                position: null, dirty: false, ended: false };
    root.mediaPlayerEvents.sessionId = session.id;
    return session;
  }

  root.mediaPlayerEvents = { maths: maths, sessionId: null };

  var timed = element.tagName === "VIDEO" || element.tagName === "AUDIO";
  if (!timed) {
    reportViewed();
    return;
  }

  function reportViewed() {
    var type = config.mediaType;
    if (type !== "IMAGE" && type !== "DOCUMENT") {
      return;
    }
    var done = false;
    function viewed() {
      if (!done && document.visibilityState === "visible") {
        done = true;
        send({ kind: "played", sessionId: startSession().id, state: "VIEWED" });
      }
    }
    // An image is on display once loaded; a document once its page is shown.
    if (element.tagName === "IMG" && !(element.complete && element.naturalWidth)) {
      element.addEventListener("load", viewed, { once: true });
    } else {
      viewed();
    }
    document.addEventListener("visibilitychange", function () {
      if (element.tagName !== "IMG" || element.naturalWidth) {
        viewed();
      }
    });
  }

  function mediaDuration() {
    var duration = element.duration;
    if (isFinite(duration) && duration > 0) {
      return duration;
    }
    return config.durationMs ? config.durationMs / 1000 : 0;
  }

  // Playback ran from `from` to `to` without a jump: count spans and quartiles.
  function played(from, to) {
    var duration = mediaDuration();
    if (!session || !duration || to < from) {
      return;
    }
    if (!session.counts || session.duration !== duration) {
      session.duration = duration;
      session.counts = new Array(spanLayout(duration).count).fill(0);
      session.lastSpan = -1;
    }
    session.lastSpan = countSpans(session.counts, session.lastSpan, from, to, duration);
    session.dirty = true;
    quartilesCrossed(from, to, duration).forEach(function (q) {
      if (!session.quartiles[q]) {
        session.quartiles[q] = true;
        send({ kind: "quartile", sessionId: session.id, playedPercent: q });
      }
    });
  }

  function sendAttention(final, useBeacon) {
    if (!session || !session.counts || session.ended || (!session.dirty && !final)) {
      return;
    }
    session.dirty = false;
    var layout = spanLayout(session.duration);
    var body = { kind: "attention", sessionId: session.id, spans: session.counts.slice(),
                 spanSeconds: layout.seconds, durationSeconds: session.duration };
    if (final) {
      body.final = true;
      session.ended = true;
    }
    send(body, useBeacon);
  }

  // Where playback rests (start, seek, pause): "playing" may fire late, after currentTime
  // moved on, and that stretch (quartile 0 too) was played all the same.
  var restingAt = (config.options && config.options.start) || 0;

  element.addEventListener("playing", function () {
    if (!session || session.ended) {
      startSession();
      send({ kind: "played", sessionId: session.id, state: "STARTED" });
    }
    advance();
  });

  element.addEventListener("seeked", function () {
    restingAt = element.currentTime;
  });

  element.addEventListener("timeupdate", function () {
    if (!session || session.ended || element.paused || element.seeking) {
      return;
    }
    advance();
  });

  // Counts what playback ran over since the last timeupdate, else since where it rested.
  function advance() {
    var now = element.currentTime;
    var last = session.position !== null ? session.position : restingAt;
    restingAt = null;
    if (last === null || now < last || now - last > MAX_STEP_SECONDS * (element.playbackRate || 1)) {
      session.lastSpan = -1; // a jump: what follows is a new pass
      played(now, now);
    } else {
      played(last, now);
    }
    session.position = now;
  }

  element.addEventListener("seeking", function () {
    restingAt = null;
    if (session) {
      session.position = null;
      session.lastSpan = -1;
    }
  });

  element.addEventListener("pause", function () {
    restingAt = element.currentTime;
    if (session && !session.ended && session.position !== null && !element.seeking && !element.ended) {
      played(session.position, element.currentTime);
      session.position = null;
    }
    sendAttention(false, false);
  });

  element.addEventListener("ended", function () {
    if (session && !session.ended) {
      var end = mediaDuration();
      played(session.position === null ? end : session.position, end);
      session.position = null;
      sendAttention(true, true);
    }
  });

  root.setInterval(function () {
    if (!element.paused) {
      sendAttention(false, false);
    }
  }, UPDATE_EVERY_MS);

  root.addEventListener("pagehide", function () {
    sendAttention(true, true);
  });

  // A phone may never fire pagehide: a hidden tab sends what it has.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      sendAttention(false, true);
    }
  });
})(typeof window === "undefined" ? this : window);
