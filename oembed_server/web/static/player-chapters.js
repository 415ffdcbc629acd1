/* Chapters: a "Chapters" button opening the list of the item's chapters (Tab to it, Enter
 * or Space to open, arrow keys, Home and End to move, Enter to jump, Escape to close) and
 * marks on a strip along the timeline. Loaded only by the players of items with chapters;
 * the <track kind="chapters"> beside it carries the same chapters for other software. */
(function () {
  "use strict";

  var player = window.mediaPlayer; // player.js ran first: deferred scripts run in order
  var element = player && player.element;
  var chapters = player && player.config.chapters;
  if (!element || typeof element.play !== "function" || !chapters || !chapters.length) {
    return;
  }
  var box = element.parentNode;

  function clock(seconds) {
    var whole = Math.floor(seconds);
    var h = Math.floor(whole / 3600), m = Math.floor(whole % 3600 / 60), s = whole % 60;
    var mm = h ? (m < 10 ? "0" : "") + m : String(m);
    return (h ? h + ":" : "") + mm + ":" + (s < 10 ? "0" : "") + s;
  }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    node.className = className;
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  var root = make("div", "player-chapters");
  var toggle = make("button", "player-chapters__toggle", "Chapters");
  toggle.type = "button";
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", "player-chapters-list");
  var list = make("ol", "player-chapters__list");
  list.id = "player-chapters-list";
  list.setAttribute("aria-label", "Chapters");
  list.hidden = true;
  var items = chapters.map(function (chapter, index) {
    var item = make("button", "player-chapters__item");
    item.type = "button";
    item.setAttribute("data-chapter", String(index));
    item.appendChild(make("span", "player-chapters__time", clock(chapter.start)));
    item.appendChild(document.createTextNode(" " + chapter.title));
    item.addEventListener("click", function () {
      element.currentTime = chapter.start;
      close(true);
    });
    list.appendChild(document.createElement("li")).appendChild(item);
    return item;
  });
  root.appendChild(toggle);
  root.appendChild(list);

  function current() {
    var time = element.currentTime, found = 0;
    chapters.forEach(function (chapter, index) {
      if (time >= chapter.start) {
        found = index;
      }
    });
    return found;
  }

  function open() {
    list.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    items[current()].focus();
  }

  function close(refocus) {
    list.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    if (refocus) {
      toggle.focus();
    }
  }

  toggle.addEventListener("click", function () {
    if (list.hidden) {
      open();
    } else {
      close(false);
    }
  });
  list.addEventListener("keydown", function (event) {
    var at = items.indexOf(document.activeElement), next = -1;
    if (event.key === "ArrowDown") {
      next = Math.min(items.length - 1, at + 1);
    } else if (event.key === "ArrowUp") {
      next = Math.max(0, at - 1);
    } else if (event.key === "Home") {
      next = 0;
    } else if (event.key === "End") {
      next = items.length - 1;
    } else if (event.key === "Escape") {
      event.preventDefault();
      close(true);
      return;
    }
    if (next >= 0) {
      event.preventDefault();
      items[next].focus();
    }
  });
  root.addEventListener("focusout", function (event) {
    if (!list.hidden && event.relatedTarget && !root.contains(event.relatedTarget)) {
      close(false);
    }
  });

  // The strip of marks is for the eye; the list above is how keyboards and readers get there.
  var marks = make("div", "player-chapters__marks");
  marks.setAttribute("aria-hidden", "true");
  function placeMarks() {
    var duration = isFinite(element.duration) && element.duration > 0
      ? element.duration : (player.config.durationMs || 0) / 1000;
    if (!duration) {
      return;
    }
    marks.textContent = "";
    chapters.forEach(function (chapter) {
      var mark = marks.appendChild(make("span", "player-chapters__mark"));
      mark.style.left = Math.min(100, chapter.start / duration * 100) + "%";
      mark.title = chapter.title;
    });
  }
  placeMarks();
  element.addEventListener("loadedmetadata", placeMarks);

  var shown = -1;
  element.addEventListener("timeupdate", function () {
    var now = current();
    if (now !== shown) {
      if (shown >= 0) {
        items[shown].removeAttribute("aria-current");
      }
      items[now].setAttribute("aria-current", "true");
      shown = now;
    }
  });

  box.appendChild(root);
  box.appendChild(marks);
})();
