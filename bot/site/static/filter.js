// codecast: filter the codes on a page as the reader types. The page lists every code without
// it (site.css hides the form when scripting is off); this only hides what does not match.
// A search is kept in the address (?q=...&game=... or &status=...) so it can be shared.
"use strict";
(function () {
  var form = document.querySelector("form[data-filter]");
  if (!form) return;
  var front = form.getAttribute("data-filter") === "games";
  var q = form.querySelector("#q");
  var game = form.querySelector("#fg");
  var status = form.querySelector("#fs");
  var count = form.querySelector("#fcount");
  var archive = null;
  var lang = document.documentElement.lang || "en";
  var block = document.getElementById("l10n");
  var l10n = {};
  try {
    l10n = block ? JSON.parse(block.textContent) : {};
  } catch (e) {
    l10n = {};
  }
  var plurals = null;
  try {
    plurals = new Intl.PluralRules(lang);
  } catch (e) {
    plurals = null;
  }

  // A message of the page's language with its %(name)s filled in; English when missing.
  function say(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (all, name) {
      return values && name in values ? values[name] : all;
    });
  }

  function number(n) {
    try {
      return n.toLocaleString(lang);
    } catch (e) {
      return String(n);
    }
  }

  // "2 of 5 codes match.", in the form the count's plural category takes in the language.
  function matching(shown, total) {
    var forms = l10n.matches || {};
    var category = plurals ? plurals.select(total) : total === 1 ? "one" : "other";
    var text = forms[category] || forms.other ||
      (total === 1 ? "%(shown)s of %(count)s code match." : "%(shown)s of %(count)s codes match.");
    return say(text, { shown: number(shown), count: number(total) });
  }

  function text(el) {
    return el ? el.textContent : "";
  }

  // What a row is found by: its code, its rewards (with the names of reward pictures) and,
  // on the front page, its game's name.
  var rows = [];
  var items = document.querySelectorAll(front ? ".codes > li" : "li.card");
  for (var i = 0; i < items.length; i++) {
    var el = items[i];
    var group = el.closest("[data-game]");
    var words = [text(el.querySelector("code.code")), text(el.querySelector(".rw"))];
    var pictures = el.querySelectorAll(".rw img[alt]");
    for (var p = 0; p < pictures.length; p++) words.push(pictures[p].alt);
    if (front && group) words.push(text(group.querySelector("h2")), group.dataset.game);
    rows.push({
      el: el,
      game: group ? group.dataset.game : "",
      expired: el.classList.contains("old"),
      hay: words.join(" ").toLowerCase(),
    });
  }
  var sections = document.querySelectorAll(front ? "section.game" : "main .list");

  function matches(row, terms, wantGame, wantStatus) {
    if (wantGame && row.game !== wantGame) return false;
    if (wantStatus && (wantStatus === "expired") !== row.expired) return false;
    for (var t = 0; t < terms.length; t++) {
      if (row.hay.indexOf(terms[t]) < 0) return false;
    }
    return true;
  }

  // The front page lists current codes only: a search there also offers each game's page,
  // where the expired codes are, with the same search filled in.
  function showArchive(query, wantGame) {
    if (!front) return;
    if (!archive) {
      archive = document.createElement("p");
      archive.className = "archive";
      count.insertAdjacentElement("afterend", archive);
    }
    archive.textContent = "";
    archive.hidden = !query;
    if (!query) return;
    // The message is split around its list of links: "Expired codes too: %(games)s".
    var parts = (l10n.expiredToo || "Expired codes too: %(games)s").split("%(games)s");
    archive.appendChild(document.createTextNode(parts[0]));
    var first = true;
    for (var s = 0; s < sections.length; s++) {
      var id = sections[s].dataset.game;
      if (wantGame && id !== wantGame) continue;
      if (!first) archive.appendChild(document.createTextNode(" \u00b7 "));
      first = false;
      var link = document.createElement("a");
      link.href = id + "/?q=" + encodeURIComponent(query) + "&status=expired";
      link.textContent = text(sections[s].querySelector("h2"));
      archive.appendChild(link);
    }
    if (parts.length > 1 && parts[1]) archive.appendChild(document.createTextNode(parts[1]));
  }

  function remember(query, wantGame, wantStatus) {
    var params = new URLSearchParams();
    if (query) params.set("q", query);
    if (wantGame) params.set("game", wantGame);
    if (wantStatus) params.set("status", wantStatus);
    var search = params.toString();
    try {
      history.replaceState(null, "", location.pathname + (search ? "?" + search : "") + location.hash);
    } catch (e) {
      // file:// pages and sandboxed frames may refuse; the filter works all the same.
    }
  }

  var openedByFilter = false;

  function apply() {
    var query = q.value.trim();
    var terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    var wantGame = game ? game.value : "";
    var wantStatus = status ? status.value : "";
    var shown = 0;
    var bySection = new Map();
    for (var r = 0; r < rows.length; r++) {
      var row = rows[r];
      var ok = matches(row, terms, wantGame, wantStatus);
      row.el.hidden = !ok;
      if (ok) shown++;
      var holder = row.el.closest(front ? "section.game" : ".list");
      if (holder) bySection.set(holder, (bySection.get(holder) || 0) + (ok ? 1 : 0));
    }
    var filtering = terms.length > 0 || wantGame !== "" || wantStatus !== "";
    for (var s = 0; s < sections.length; s++) {
      var section = sections[s];
      var found = bySection.get(section) || 0;
      if (front) {
        section.hidden = filtering && (found === 0 || (wantGame && section.dataset.game !== wantGame));
      } else if (section.classList.contains("expired")) {
        section.hidden = wantStatus === "active" || (filtering && found === 0);
        // A search that finds expired codes shows them; clearing it folds them again.
        if (filtering && found > 0 && !section.open) {
          section.open = true;
          openedByFilter = true;
        } else if (!filtering && openedByFilter) {
          section.open = false;
          openedByFilter = false;
        }
      } else {
        section.hidden = wantStatus === "expired" || (filtering && found === 0);
      }
    }
    if (!filtering) {
      count.textContent = "";
    } else if (shown === 0) {
      count.textContent = l10n.noMatch || "No code matches.";
    } else {
      count.textContent = matching(shown, rows.length);
    }
    showArchive(query, wantGame);
    remember(query, wantGame, wantStatus);
  }

  var params = new URLSearchParams(location.search);
  if (params.get("q")) q.value = params.get("q");
  if (game && params.get("game")) game.value = params.get("game");
  if (status && params.get("status")) status.value = params.get("status");
  // An unknown value in the address leaves the select on its first option.
  if (game && game.selectedIndex < 0) game.selectedIndex = 0;
  if (status && status.selectedIndex < 0) status.selectedIndex = 0;

  form.addEventListener("submit", function (event) { event.preventDefault(); });
  q.addEventListener("input", apply);
  if (game) game.addEventListener("change", apply);
  if (status) status.addEventListener("change", apply);
  // "/" jumps to the search box, as on many sites, unless the reader is typing somewhere.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName));
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      q.focus();
    }
  });
  if (q.value || (game && game.value) || (status && status.value)) apply();
})();
