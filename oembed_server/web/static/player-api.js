/* The player's control API: the open player.js protocol (postMessage, context "player.js").
 * player.js announces the player and fetches this file when the embedding page first sends
 * a player.js message, handing over the messages held meanwhile.
 * Answers and events go only to the window that asked, at the origin it asked from.
 * Anything that is not a well-formed request for a supported method is ignored, silently. */
(function () {
  "use strict";

  var player = window.mediaPlayer;
  var media = player && player.element;
  if (!media || typeof media.play !== "function" || player.api) {
    return;
  }
  var CONTEXT = "player.js";
  var VERSION = "0.0.11";
  var EVENTS = ["ready", "play", "pause", "ended", "timeupdate", "seeked", "error"];
  var GETTERS = {
    getPaused: function () { return media.paused; },
    getCurrentTime: function () { return media.currentTime; },
    getDuration: function () { return isFinite(media.duration) ? media.duration : 0; },
    getMuted: function () { return media.muted; },
    getVolume: function () { return Math.round(media.volume * 100); },
    getLoop: function () { return media.loop; }
  };
  var SETTERS = {
    play: function () {
      var attempt = media.play();
      if (attempt && attempt.catch) {
        attempt.catch(function () {}); // a refused play shows as no "play" event, not as an error here
      }
    },
    pause: function () { media.pause(); },
    mute: function () { media.muted = true; },
    unmute: function () { media.muted = false; },
    setCurrentTime: function (value) {
      if (isNumber(value) && value >= 0) {
        media.currentTime = value;
      }
    },
    // The protocol counts volume 0-100; the element 0-1.
    setVolume: function (value) {
      if (isNumber(value)) {
        media.volume = Math.min(100, Math.max(0, value)) / 100;
      }
    },
    setLoop: function (value) {
      if (typeof value === "boolean") {
        media.loop = value;
      }
    },
    addEventListener: function (value, request) {
      if (EVENTS.indexOf(value) < 0) {
        return;
      }
      var list = listeners[value] || (listeners[value] = []);
      if (!list.some(function (known) { return sameListener(known, request); })) {
        list.push(request);
      }
      if (value === "ready") {
        send(request, "ready", readyValue());
      }
    },
    removeEventListener: function (value, request) {
      if (listeners.hasOwnProperty(value)) {
        // Without a listener name, every listener of that window for the event goes.
        listeners[value] = listeners[value].filter(function (known) {
          return known.source !== request.source ||
            (request.listener !== undefined && known.listener !== request.listener);
        });
      }
    }
  };
  var METHODS = Object.keys(SETTERS).concat(Object.keys(GETTERS));
  var listeners = {};

  function isNumber(value) {
    return typeof value === "number" && isFinite(value);
  }

  function sameListener(a, b) {
    return a.source === b.source && a.listener === b.listener;
  }

  function readyValue() {
    // player.js strips the visitor's tracking parameters (hs_utk...): they stay in this frame.
    return { src: player.publicSrc(), events: EVENTS, methods: METHODS };
  }

  function send(request, event, value) {
    var message = { context: CONTEXT, version: VERSION, event: event };
    if (value !== undefined) {
      message.value = value;
    }
    if (request.listener !== undefined) {
      message.listener = request.listener;
    }
    // A sandboxed or file: page has the opaque origin "null", which postMessage cannot target.
    var target = request.origin && request.origin !== "null" ? request.origin : "*";
    try {
      request.source.postMessage(JSON.stringify(message), target);
    } catch (error) {
      // The window has gone, or navigated to another origin: nobody is listening any more.
    }
  }

  function parse(data) {
    if (typeof data === "string") {
      try {
        data = JSON.parse(data);
      } catch (error) {
        return null;
      }
    }
    if (!data || typeof data !== "object" || data.context !== CONTEXT || typeof data.method !== "string" ||
        METHODS.indexOf(data.method) < 0) {
      return null;
    }
    var listener = data.listener;
    if (listener !== undefined && listener !== null && typeof listener !== "string" && !isNumber(listener)) {
      return null;
    }
    return data;
  }

  function receive(event) {
    var data = parse(event.data);
    if (!data || !event.source) {
      return;
    }
    var request = { source: event.source, origin: event.origin, listener: data.listener == null ? undefined : data.listener };
    if (GETTERS.hasOwnProperty(data.method)) {
      send(request, data.method, GETTERS[data.method]());
    } else {
      SETTERS[data.method](data.value, request);
    }
  }

  function emit(name, value) {
    (listeners[name] || []).forEach(function (request) {
      send(request, name, value);
    });
  }

  ["play", "pause", "ended", "seeked"].forEach(function (name) {
    media.addEventListener(name, function () { emit(name); });
  });
  media.addEventListener("timeupdate", function () {
    emit("timeupdate", { seconds: media.currentTime, duration: GETTERS.getDuration() });
  });
  media.addEventListener("error", function () {
    var error = media.error;
    // Code 1 is the protocol's "playback not supported by device or browser".
    emit("error", { code: 1, msg: error && error.message ? error.message : "the media could not be played" });
  });

  player.api = { receive: receive, events: EVENTS, methods: METHODS };
  removeEventListener("message", player.hold);
  addEventListener("message", receive);
  (player.held || []).splice(0).forEach(receive);
})();
