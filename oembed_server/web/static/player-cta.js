/* Calls to action: an overlay link while a CTA's time range plays, and the end-screen CTA
 * once the item has ended. Links open in the top window (the page around the player), and
 * a click is reported to the server (POST ctaClicks with the page's player token), which
 * counts it for the item's insights. Loaded only by the players of items with CTAs. */
(function () {
  "use strict";

  var player = window.mediaPlayer; // player.js ran first: deferred scripts run in order
  var element = player && player.element;
  var config = player ? player.config : {};
  var ctas = config.ctas;
  if (!element || typeof element.play !== "function" || !ctas || !ctas.length) {
    return;
  }
  var timed = ctas.filter(function (cta) { return cta.start !== null; });
  var endScreen = ctas.filter(function (cta) { return cta.start === null; })[0] || null;

  var layer = document.createElement("div");
  layer.className = "player-cta";
  layer.hidden = true;
  var link = document.createElement("a");
  link.className = "player-cta__link";
  link.target = "_top";
  link.rel = "noopener";
  // Never a link without href, even hidden: crawlers (and Lighthouse's crawlable-anchors)
  // take an <a> with a click handler and no href for a script-only link.
  link.href = ctas[0].url;
  var dismiss = document.createElement("button");
  dismiss.type = "button";
  dismiss.className = "player-cta__dismiss";
  dismiss.setAttribute("aria-label", "Dismiss");
  dismiss.textContent = "\u00d7";
  layer.appendChild(link);
  layer.appendChild(dismiss);
  element.parentNode.appendChild(layer);

  var shown = null;
  var dismissed = {};

  function show(cta) {
    if (cta === shown) {
      return;
    }
    shown = cta;
    if (!cta) {
      layer.hidden = true;
      return;
    }
    link.href = cta.url;
    link.textContent = cta.text;
    link.setAttribute("data-cta", cta.key);
    layer.classList.toggle("player-cta--end", cta === endScreen);
    layer.hidden = false;
  }

  function update() {
    var time = element.currentTime, found = null;
    timed.forEach(function (cta) {
      if (time >= cta.start && time < cta.end) {
        found = cta;
      }
    });
    if (!found && element.ended) {
      found = endScreen;
    }
    show(found && !dismissed[found.key] ? found : null);
  }

  function report(key) {
    var body = JSON.stringify({ token: config.events && config.events.token, cta: key });
    // A beacon outlives the page the click is about to leave; fetch with keepalive where there is none.
    if (navigator.sendBeacon && navigator.sendBeacon(config.ctaClicks, body)) {
      return;
    }
    if (window.fetch) {
      fetch(config.ctaClicks, { method: "POST", body: body, keepalive: true, credentials: "omit",
        headers: { "Content-Type": "text/plain" } }).catch(function () {});
    }
  }

  link.addEventListener("click", function () {
    if (shown) {
      report(shown.key);
    }
  });
  dismiss.addEventListener("click", function () {
    if (shown) {
      dismissed[shown.key] = true;
      show(null);
    }
  });
  ["timeupdate", "seeked", "ended", "play"].forEach(function (name) {
    element.addEventListener(name, update);
  });
})();
