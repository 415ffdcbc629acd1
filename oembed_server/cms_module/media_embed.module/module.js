/* Media player module: progressive enhancement over markup that already works.
 *
 * - Mounts each player iframe exactly once, with hs_utk (the hubspotutk cookie),
 *   hs_portal_id and the page context (hs_page_id, hs_page_url, hs_page_name) already
 *   on its URL, like HubSpot's media bridge helper. The iframe is built from the
 *   <noscript>/<template> markup instead of rewriting a loaded iframe, so it never
 *   loads twice.
 * - Lead capture: the editor's form (data-gate-*) rides on the player URL as gate_form,
 *   gate_at and gate_skippable; the player draws it.
 * - Poster: the player appears on click, with autoplay=1.
 * - Playlist: links become buttons that switch the player (click, Enter, Space);
 *   arrow keys, Home and End move between items.
 */
(function () {
  "use strict";

  // How long to wait for HubSpot's tracking code to hand out the visitor token before
  // mounting the player without it.
  var UTK_WAIT_MS = 1500;

  function readCookie(name) {
    var pairs = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < pairs.length; i++) {
      var eq = pairs[i].indexOf("=");
      if (pairs[i].slice(0, eq) === name) {
        try {
          return decodeURIComponent(pairs[i].slice(eq + 1));
        } catch (error) {
          return pairs[i].slice(eq + 1);
        }
      }
    }
    return "";
  }

  // Calls back once with the visitor token, or "" when none arrives in time.
  function whenUserTokenKnown(callback) {
    var utk = readCookie("hubspotutk");
    var trackingCode = window._hsq || document.getElementById("hs-script-loader");
    if (utk || !trackingCode) {
      callback(utk);
      return;
    }
    var settled = false;
    function settle(token) {
      if (!settled) {
        settled = true;
        callback(token || readCookie("hubspotutk"));
      }
    }
    window._hsq = window._hsq || [];
    window._hsq.push(["addUserTokenListener", settle]);
    window.setTimeout(function () { settle(""); }, UTK_WAIT_MS);
  }

  function withParams(src, params) {
    var url;
    try {
      url = new URL(src, window.location.href);
    } catch (error) {
      return src;
    }
    Object.keys(params).forEach(function (key) {
      if (params[key]) {
        url.searchParams.set(key, params[key]);
      }
    });
    return url.toString();
  }

  function pageParams(root, utk) {
    return {
      hs_utk: utk,
      hs_portal_id: root.getAttribute("data-portal-id"),
      hs_page_id: root.getAttribute("data-page-id"),
      hs_page_url: root.getAttribute("data-page-url") || window.location.href.split("#")[0],
      hs_page_name: root.getAttribute("data-page-name") || document.title,
      // The "Hide calls to action" field: the player leaves its CTAs out (ctas=0).
      ctas: root.getAttribute("data-player-ctas"),
      gate_form: root.getAttribute("data-gate-form"),
      gate_at: root.getAttribute("data-gate-at"),
      gate_skippable: root.getAttribute("data-gate-skippable")
    };
  }

  function MediaEmbed(root) {
    this.root = root;
    this.frame = root.querySelector("[data-media-embed-frame]");
    this.poster = root.querySelector("[data-media-embed-poster]");
    this.links = Array.prototype.slice.call(root.querySelectorAll("[data-media-embed-index]"));
    this.utk = null; // null until known (or given up on)
    this.pending = null;
  }

  MediaEmbed.prototype.start = function () {
    var self = this;
    this.enhancePlaylist();
    if (this.poster) {
      this.poster.hidden = false;
      this.poster.addEventListener("click", function () {
        self.show(0, true);
      });
    } else {
      this.show(0, false);
    }
    whenUserTokenKnown(function (utk) {
      self.utk = utk;
      if (self.pending) {
        var pending = self.pending;
        self.pending = null;
        self.mount(pending.index, pending.autoplay);
      }
    });
  };

  // Mounts now if the token question is settled; otherwise once it is. A click (poster
  // or playlist) does not wait: the visitor asked to play now.
  MediaEmbed.prototype.show = function (index, userAsked) {
    if (this.utk === null && !userAsked) {
      this.pending = { index: index, autoplay: false };
      return;
    }
    this.pending = null;
    this.mount(index, userAsked);
  };

  MediaEmbed.prototype.source = function (index) {
    var template = this.root.querySelector('[data-media-embed-source="' + index + '"]');
    if (template) {
      return { markup: template.innerHTML, style: template.getAttribute("data-frame-style"), title: template.getAttribute("data-title") };
    }
    var noscript = this.frame.querySelector("noscript[data-media-embed-player]");
    return noscript ? { markup: noscript.textContent, style: null, title: noscript.getAttribute("data-title") } : null;
  };

  MediaEmbed.prototype.mount = function (index, autoplay) {
    var source = this.source(index);
    if (!source) {
      return;
    }
    var holder = document.createElement("template");
    holder.innerHTML = source.markup;
    var params = pageParams(this.root, this.utk || "");
    if (autoplay) {
      params.autoplay = "1";
    }
    Array.prototype.forEach.call(holder.content.querySelectorAll("iframe"), function (iframe) {
      // Set while the iframe is still inert in the template: it loads once, with its final URL.
      iframe.setAttribute("src", withParams(iframe.getAttribute("src") || "", params));
      if (!iframe.getAttribute("title") && source.title) {
        iframe.setAttribute("title", source.title);
      }
    });
    var old = this.frame.querySelectorAll("[data-media-embed-live]");
    Array.prototype.forEach.call(old, function (node) { node.parentNode.removeChild(node); });
    if (this.poster) {
      this.poster.hidden = true;
    }
    if (source.style) {
      this.frame.setAttribute("style", source.style);
    }
    var live = document.createElement("div");
    live.setAttribute("data-media-embed-live", "");
    live.className = "media-embed__live";
    live.appendChild(holder.content);
    this.frame.appendChild(live);
    this.select(index);
  };

  MediaEmbed.prototype.select = function (index) {
    this.links.forEach(function (link) {
      if (Number(link.getAttribute("data-media-embed-index")) === index) {
        link.setAttribute("aria-current", "true");
      } else {
        link.removeAttribute("aria-current");
      }
    });
    var details = this.root.querySelectorAll("[data-media-embed-details]");
    Array.prototype.forEach.call(details, function (node) {
      node.hidden = Number(node.getAttribute("data-media-embed-details")) !== index;
    });
  };

  MediaEmbed.prototype.enhancePlaylist = function () {
    var self = this;
    this.links.forEach(function (link, position) {
      // With script the links switch the player, so they are announced as buttons.
      link.setAttribute("role", "button");
      link.addEventListener("click", function (event) {
        event.preventDefault();
        self.show(Number(link.getAttribute("data-media-embed-index")), true);
      });
      link.addEventListener("keydown", function (event) {
        var target = null;
        if (event.key === " " || event.key === "Spacebar") {
          event.preventDefault();
          link.click();
          return;
        }
        if (event.key === "ArrowDown" || event.key === "ArrowRight") {
          target = self.links[Math.min(position + 1, self.links.length - 1)];
        } else if (event.key === "ArrowUp" || event.key === "ArrowLeft") {
          target = self.links[Math.max(position - 1, 0)];
        } else if (event.key === "Home") {
          target = self.links[0];
        } else if (event.key === "End") {
          target = self.links[self.links.length - 1];
        }
        if (target) {
          event.preventDefault();
          target.focus();
        }
      });
    });
  };

  function init() {
    var roots = document.querySelectorAll("[data-media-embed]");
    Array.prototype.forEach.call(roots, function (root) {
      if (!root.hasAttribute("data-media-embed-ready")) {
        root.setAttribute("data-media-embed-ready", "");
        new MediaEmbed(root).start();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
