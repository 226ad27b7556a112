// codecast: a copy button next to every code, and times in the reader's words and zone.
// Without JavaScript the codes stay plain selectable text (no button that does nothing) and
// every time reads as an exact UTC date, which is what the HTML carries. The page's words
// come with it, in a data block (<script type="application/json" id="l10n">).
"use strict";
(function () {
  var lang = document.documentElement.lang || "en";
  var english = lang === "en";
  var block = document.getElementById("l10n");
  var words = {};
  try {
    words = block ? JSON.parse(block.textContent) : {};
  } catch (e) {
    words = {};
  }

  // A message of the page's language with its %(name)s filled in; English when missing.
  function message(key, fallback, values) {
    var text = words[key] || fallback;
    return text.replace(/%\((\w+)\)s/g, function (all, name) {
      return values && name in values ? values[name] : all;
    });
  }

  var COPY = message("copy", "Copy"), COPIED = message("copied", "Copied");
  var SELECTED = message("select", "Selected: press Ctrl+C");

  var live = document.createElement("p");
  live.className = "vh";
  live.setAttribute("aria-live", "polite");
  document.body.appendChild(live);

  // --- copy ---------------------------------------------------------------------------

  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function fallbackCopy(el) {
    selectText(el);
    try {
      return document.execCommand("copy");
    } catch (e) {
      return false;
    }
  }

  function say(button, text, ok) {
    button.textContent = text;
    button.classList.toggle("done", ok);
    live.textContent = text === COPY ? "" : button.dataset.code + ": " + text;
    clearTimeout(button._t);
    button._t = setTimeout(function () {
      button.textContent = COPY;
      button.classList.remove("done");
    }, 2000);
  }

  function copy(button, el) {
    var text = el.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { say(button, COPIED, true); },
        function () { say(button, fallbackCopy(el) ? COPIED : SELECTED, false); }
      );
    } else {
      var ok = fallbackCopy(el);
      say(button, ok ? COPIED : SELECTED, ok);
    }
  }

  var codes = document.querySelectorAll("code.code");
  for (var i = 0; i < codes.length; i++) {
    (function (el) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy";
      button.textContent = COPY;
      button.dataset.code = el.textContent;
      button.setAttribute("aria-label", message("copyCode", "Copy code %(code)s", { code: el.textContent }));
      button.addEventListener("click", function () { copy(button, el); });
      el.insertAdjacentElement("afterend", button);
    })(codes[i]);
  }

  // --- times --------------------------------------------------------------------------
  // The pages are rewritten only when their content changes, so "3 h ago" cannot be in the
  // HTML: it is worked out here from <time datetime> and kept fresh while the page is open.

  var MINUTE = 60000, HOUR = 60 * MINUTE, DAY = 24 * HOUR;

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  // Minutes under an hour, hours under a day, then days and months: "3 h", "2 days".
  function span(ms) {
    if (ms < HOUR - MINUTE / 2) return Math.max(1, Math.round(ms / MINUTE)) + " min";
    if (ms < DAY - HOUR / 2) return Math.round(ms / HOUR) + " h";
    if (ms < 60 * DAY) return plural(Math.round(ms / DAY), "day");
    return plural(Math.round(ms / (30.44 * DAY)), "month");
  }

  // Another language's words for "3 hours ago" and "in 2 days" come from the browser
  // (Intl.RelativeTimeFormat knows every locale's); English keeps its short house style.
  var format = null;
  if (!english && window.Intl && Intl.RelativeTimeFormat) {
    try {
      format = new Intl.RelativeTimeFormat(lang, { numeric: "always", style: "long" });
    } catch (e) {
      format = null;
    }
  }

  function spoken(ms) {
    var sign = ms < 0 ? -1 : 1, size = Math.abs(ms);
    if (size < HOUR - MINUTE / 2) return format.format(sign * Math.max(1, Math.round(size / MINUTE)), "minute");
    if (size < DAY - HOUR / 2) return format.format(sign * Math.round(size / HOUR), "hour");
    if (size < 60 * DAY) return format.format(sign * Math.round(size / DAY), "day");
    return format.format(sign * Math.round(size / (30.44 * DAY)), "month");
  }

  // "3 h ago", "in 2 days"; under a minute either way is "just now" / "in a minute".
  function relative(then, now) {
    var ms = then - now;
    if (Math.abs(ms) < MINUTE) {
      return ms < 0 ? message("justNow", "just now") : message("inAMinute", "in a minute");
    }
    if (format) return spoken(ms);
    return ms < 0 ? span(-ms) + " ago" : "in " + span(ms);
  }

  function local(date) {
    try {
      // An English page speaks to the world: the reader's own locale writes the date.
      return date.toLocaleString(english ? undefined : lang, { dateStyle: "medium", timeStyle: "short" });
    } catch (e) {
      return date.toString();
    }
  }

  var times = document.querySelectorAll("time[datetime]");
  var parsed = [];
  for (var t = 0; t < times.length; t++) {
    var when = new Date(times[t].getAttribute("datetime"));
    if (isNaN(when.getTime())) continue;
    var utc = times[t].getAttribute("datetime").replace("T", " ").replace("Z", " UTC");
    times[t].title = message("yourTime", "%(local)s your time \u00b7 %(utc)s", { local: local(when), utc: utc });
    parsed.push([times[t], when.getTime(), times[t].classList.contains("exp") ? "exp" :
      times[t].classList.contains("hour") ? "hour" : ""]);
  }

  function refresh() {
    var now = Date.now();
    for (var k = 0; k < parsed.length; k++) {
      var el = parsed[k][0], then = parsed[k][1];
      var text = relative(then, now);
      if (parsed[k][2] === "exp") {
        text = then <= now
          ? message("expired", "expired %(when)s", { when: text })
          : message("expires", "expires %(when)s", { when: text });
      }
      // Source times are cut to the hour on the page, so within it no finer word is true.
      if (parsed[k][2] === "hour" && now >= then && now - then < HOUR) {
        text = message("lastHour", "within the last hour");
      }
      if (el.textContent !== text) el.textContent = text;
    }
  }

  refresh();
  if (parsed.length) {
    setInterval(refresh, 30000);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) refresh();
    });
  }
})();
