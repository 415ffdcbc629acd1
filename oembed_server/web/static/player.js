/* Player page behaviour: start offset and autoplay fallback. Markup works without it.
 * Exposes window.mediaPlayer = {config, element} for the engagement reporting to build on. */
(function () {
  "use strict";

  function readConfig() {
    var node = document.getElementById("player-config");
    try {
      return node ? JSON.parse(node.textContent) : {};
    } catch (error) {
      return {};
    }
  }

  var config = readConfig();
  var options = config.options || {};
  var element = document.getElementById("player");
  var player = window.mediaPlayer = { config: config, element: element, held: [] };
  // Tracking parameters the page was given; they identify the visitor and never leave this frame.
  var PRIVATE_PARAMS = ["hs_utk", "_hsenc", "hs_page_id", "hs_page_url", "hs_page_name", "hs_portal_id"];

  // The player's URL as the embedding page may know it: without the visitor's tracking parameters.
  player.publicSrc = function () {
    var url = new URL(location.href);
    PRIVATE_PARAMS.forEach(function (name) { url.searchParams.delete(name); });
    return url.href;
  };

  // player.js protocol: announce the player unasked; the control API (player-api.js) loads on first use.
  if (parent !== window && element && element.play) {
    var api = document.currentScript.src.replace("player.js", "player-api.js");
    addEventListener("message", player.hold = function (event) {
      if (/player\.js/.test(event.data && event.data.context || event.data) && player.held.push(event) < 2) {
        document.head.appendChild(document.createElement("script")).src = api;
      }
    });
    // Only to the page that framed us, at its origin: "*" would hand the announcement to
    // whatever the parent window has navigated to since. Chromium and Safari name the
    // parent's origin (ancestorOrigins); elsewhere the Referer of the frame's request
    // carries it (our Referrer-Policy keeps at least the origin). Unknown: no announcement;
    // the API still answers a page that speaks first, at the origin it spoke from.
    var target = parentOrigin();
    if (target) {
      parent.postMessage('{"context":"player.js","version":"0.0.11","event":"ready","value":{"src":' +
        JSON.stringify(player.publicSrc()) + "}}", target);
    }
  }

  function parentOrigin() {
    var ancestors = location.ancestorOrigins;
    var origin = ancestors && ancestors.length ? ancestors[0] : null;
    if (!origin && document.referrer) {
      try {
        origin = new URL(document.referrer).origin;
      } catch (error) {
        origin = null;
      }
    }
    return origin && origin !== "null" ? origin : null;
  }

  if (!element || typeof element.play !== "function") {
    return;
  }

  // Browsers that ignore the #t= media fragment still get the requested start.
  if (options.start > 0) {
    var seek = function () {
      if (element.currentTime < options.start) {
        element.currentTime = options.start;
      }
    };
    if (element.readyState >= 1) {
      seek();
    } else {
      element.addEventListener("loadedmetadata", seek, { once: true });
    }
  }

  // Browsers refuse autoplay with sound. For video, playing muted beats not playing when
  // autoplay was asked for; muted audio is just silence, so audio waits for a click, unmuted.
  if (options.autoplay) {
    var attempt = element.play();
    if (attempt && typeof attempt.catch === "function") {
      attempt.catch(function () {
        if (element.tagName === "VIDEO" && !element.muted) {
          element.muted = true;
          var retry = element.play();
          if (retry && typeof retry.catch === "function") {
            retry.catch(function () {});
          }
        }
      });
    }
  }
})();
