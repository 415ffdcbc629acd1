/*
 * The local preview's stand-in for HubSpot's media-bridge-embed-js
 * (https://static.hsappstatic.net/media-bridge-embed-js/ex/v1.js, not reachable from a
 * local preview). It does what HubSpot's docs/media-bridge-embed-js.md says that script
 * does, no more:
 *
 * - finds `.hs-mb-embed-wrapper[data-oembed-url]` wrappers, and the Embed field
 *   snippet's `.iframe_wrapper[data-embed-url][data-source-type="media_bridge"]`;
 * - takes the oEmbed answer from `window._hsMediaBridge.embedsByUrl[url]`, or fetches it
 *   (always with data-render-mode="refetch") from the oEmbed endpoint of the server that
 *   served this script;
 * - injects the answer's html when the wrapper holds no iframe yet, hiding the
 *   `.hs-mb-embed-placeholder` elements; an iframe already there gets the parameters
 *   added to its URL instead;
 * - adds `hs_utk` (from the `hubspotutk` cookie, when there is one) and `hs_portal_id`
 *   (from the page's `hsVars.portal_id`) to the player URL;
 * - `data-reveal-on="click"` waits for a click and adds `autoplay=1`; "defer" waits for
 *   `hsMediaBridgeApi.revealDeferredPlayer(oembedUrl)`.
 */
(function () {
  "use strict";
  if (window.hsMediaBridgeApi) return;

  var script = document.currentScript;
  var endpoint = new URL("/oembed", script ? script.src : window.location.href);
  var deferred = {};

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : null;
  }

  function trackingParams(extra) {
    var params = {};
    var utk = cookie("hubspotutk");
    if (utk) params.hs_utk = utk;
    if (window.hsVars && window.hsVars.portal_id) params.hs_portal_id = String(window.hsVars.portal_id);
    for (var key in extra) params[key] = extra[key];
    return params;
  }

  function withParams(src, params) {
    var url;
    try { url = new URL(src, window.location.href); } catch (e) { return src; }
    for (var key in params) url.searchParams.set(key, params[key]);
    return url.toString();
  }

  function oembedFor(wrapper, url) {
    var cached = window._hsMediaBridge && window._hsMediaBridge.embedsByUrl &&
      window._hsMediaBridge.embedsByUrl[url];
    if (cached && wrapper.getAttribute("data-render-mode") !== "refetch") return Promise.resolve(cached);
    var request = new URL(endpoint);
    request.searchParams.set("url", url);
    request.searchParams.set("format", "json");
    return fetch(request.toString(), { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error("oEmbed " + response.status + " for " + url);
      return response.json();
    });
  }

  function target(wrapper) {
    return wrapper.querySelector(".hs-mb-iframe-wrapper") || wrapper;
  }

  function sizeSnippet(wrapper, data, iframe) {
    // The Embed field snippet's sizing: an empty data-* value means the oEmbed answer's own.
    var container = wrapper.closest(".oembed_container") || wrapper;
    var sizes = { maxHeight: "max-height", maxWidth: "max-width", height: "height", width: "width" };
    for (var key in sizes) {
      if (!(key in wrapper.dataset)) continue;
      var fallback = key.toLowerCase().indexOf("height") >= 0 ? data.height : data.width;
      var value = wrapper.dataset[key] || fallback;
      if (!value) continue;
      container.style.setProperty(sizes[key], value + "px");
      iframe.style.setProperty(sizes[key], value + "px");
    }
  }

  function inject(wrapper, url, data, extra) {
    var holder = document.createElement("template");
    if (data.html) {
      holder.innerHTML = data.html;
    } else if (data.type === "photo" && data.url) {
      var img = document.createElement("img");
      img.src = data.url;
      img.alt = data.title || "";
      holder.content.appendChild(img);
    } else {
      throw new Error("oEmbed answer for " + url + " has neither html nor a photo url");
    }
    var params = trackingParams(extra);
    holder.content.querySelectorAll("iframe").forEach(function (frame) {
      frame.src = withParams(frame.getAttribute("src"), params);  // before it loads: it loads once
      if (!wrapper.classList.contains("hs-mb-embed-wrapper")) sizeSnippet(wrapper, data, frame);
    });
    wrapper.querySelectorAll(".hs-mb-embed-placeholder").forEach(function (el) { el.style.display = "none"; });
    target(wrapper).appendChild(holder.content);
    wrapper.setAttribute("data-hs-mb-revealed", "true");
  }

  function reveal(wrapper, url, extra) {
    if (wrapper.getAttribute("data-hs-mb-revealed")) return Promise.resolve();
    wrapper.setAttribute("data-hs-mb-revealed", "pending");
    return oembedFor(wrapper, url).then(function (data) {
      wrapper.removeAttribute("data-hs-mb-revealed");
      inject(wrapper, url, data, extra || {});
    }).catch(function (error) {
      wrapper.removeAttribute("data-hs-mb-revealed");
      console.error("media-bridge-embed (local preview):", error);
    });
  }

  function setUp(wrapper, url) {
    var existing = wrapper.querySelector("iframe");
    if (existing) {
      // Rendered server-side (render_mode eager): only the tracking parameters are missing.
      var src = existing.getAttribute("src");
      var updated = withParams(src, trackingParams({}));
      if (updated !== new URL(src, window.location.href).toString()) existing.src = updated;
      wrapper.setAttribute("data-hs-mb-revealed", "true");
      return;
    }
    var mode = wrapper.getAttribute("data-reveal-on") || "load";
    if (mode === "click") {
      wrapper.addEventListener("click", function () { reveal(wrapper, url, { autoplay: "1" }); });
      wrapper.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") reveal(wrapper, url, { autoplay: "1" });
      });
    } else if (mode === "defer") {
      (deferred[url] = deferred[url] || []).push(wrapper);
    } else {
      reveal(wrapper, url);
    }
  }

  function scan() {
    document.querySelectorAll(".hs-mb-embed-wrapper[data-oembed-url]").forEach(function (wrapper) {
      setUp(wrapper, wrapper.getAttribute("data-oembed-url"));
    });
    document.querySelectorAll('.iframe_wrapper[data-embed-url][data-source-type="media_bridge"]')
      .forEach(function (wrapper) { setUp(wrapper, wrapper.getAttribute("data-embed-url")); });
  }

  window.hsMediaBridgeApi = {
    revealDeferredPlayer: function (oembedUrl) {
      return Promise.all((deferred[oembedUrl] || []).map(function (wrapper) { return reveal(wrapper, oembedUrl); }));
    }
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();
