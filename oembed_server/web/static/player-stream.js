/* Adaptive streaming, loaded only by player pages whose media has an HLS stream.
 * The markup already lists the stream before the progressive file: a browser that plays
 * HLS itself picks the stream, any other picks the file. Here, where HLS is not native but
 * Media Source Extensions are, hls.js (vendor/, fetched only then) plays the stream instead;
 * if hls.js gives up, the stream's <source> is dropped and the browser falls back to the file. */
(function () {
  "use strict";

  var HLS_TYPE = "application/vnd.apple.mpegurl";
  var hlsUrl = document.currentScript && document.currentScript.dataset.hls;
  var element = document.getElementById("player");
  var stream = element && element.querySelector('source[type="' + HLS_TYPE + '"]');
  if (!stream || !hlsUrl || element.canPlayType(HLS_TYPE)) {
    return;
  }
  if (!(window.ManagedMediaSource || window.MediaSource)) {
    return;
  }

  var file = element.querySelector('source:not([type="' + HLS_TYPE + '"])');

  // After hls.destroy(): hls.js leaves its blob: src in place when it fails while still
  // attaching, and may have removed <source> children, so the file is put back by hand.
  function fallBackToFile() {
    element.removeAttribute("src");
    stream.remove();
    if (file && !file.parentNode) {
      element.insertBefore(file, element.firstChild);
    }
    element.load();
  }

  var loader = document.createElement("script");
  loader.src = hlsUrl;
  loader.onload = function () {
    var Hls = window.Hls;
    if (!Hls || !Hls.isSupported()) {
      return;
    }
    var options = (window.mediaPlayer && window.mediaPlayer.config.options) || {};
    // The element's own src had the start as a #t= fragment; hls.js needs it said.
    var start = options.start > 0 ? options.start : -1;
    // Like preload="metadata": only the playlists until playback is wanted, not the
    // half-minute of segments hls.js would otherwise buffer on every view.
    var hls = new Hls({ startPosition: start, autoStartLoad: !!options.autoplay });
    hls.on(Hls.Events.ERROR, function (event, data) {
      if (data.fatal) {
        hls.destroy();
        fallBackToFile();
      }
    });
    if (!options.autoplay) {
      element.addEventListener("play", function () { hls.startLoad(start); }, { once: true });
    }
    hls.loadSource(stream.src);
    hls.attachMedia(element);
    if (window.mediaPlayer) {
      window.mediaPlayer.hls = hls;
    }
  };
  document.head.appendChild(loader);
})();
