// reactivator dashboard: keeps an open page current without reloading it. The page names its
// live endpoint (body data-live) and interval (data-poll); every answer carries the page's live
// parts rendered on the server (html: name -> markup for the element #live-<name>), which
// replace the old ones in place, so the scroll position and the filter inputs stay as they are.
(function () {
  "use strict";
  var body = document.body;
  var src = body && body.dataset.live;
  var every = Number(body && body.dataset.poll) || 0;
  var indicator = document.getElementById("live-indicator");
  var form = document.getElementById("filters");
  var timer = null, inflight = null, seq = 0;

  function query() {
    if (!form) return location.search;
    var p = new URLSearchParams();
    new FormData(form).forEach(function (v, k) { if (String(v).trim() !== "") p.set(k, String(v).trim()); });
    var s = p.toString();
    return s ? "?" + s : "";
  }

  function addOptions(select, values) {
    if (!select || !values) return;
    var have = {};
    Array.prototype.forEach.call(select.options, function (o) { have[o.value] = true; });
    values.forEach(function (v) {
      if (!have[v]) { var o = document.createElement("option"); o.value = v; o.textContent = v; select.appendChild(o); }
    });
  }

  function apply(data) {
    var html = data.html || {};
    Object.keys(html).forEach(function (name) {
      var el = document.getElementById("live-" + name);
      if (el && el.innerHTML !== html[name]) el.innerHTML = html[name];
    });
    addOptions(document.getElementById("filter-outcome"), data.outcome_choices);
    addOptions(document.getElementById("filter-reason"), data.reasons);
    if (indicator) {
      indicator.textContent = "live · " + new Date().toLocaleTimeString();
      indicator.classList.remove("stale");
    }
    // A finished run changes no more: stop asking (a filter change still fetches).
    return !(data.run && data.run.state === "finished");
  }

  function poll() {
    clearTimeout(timer);
    var mine = ++seq;
    if (inflight) inflight.abort();
    inflight = new AbortController();
    fetch(src + query(), { headers: { Accept: "application/json" }, signal: inflight.signal, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) {
        if (mine !== seq) return;
        if (apply(data) && every > 0) timer = setTimeout(poll, every);
      })
      .catch(function (err) {
        if (err && err.name === "AbortError") return;
        if (indicator) { indicator.textContent = "offline: retrying"; indicator.classList.add("stale"); }
        if (every > 0) timer = setTimeout(poll, Math.max(every, 2000));
      });
  }

  if (form && src) {
    var debounce = null;
    var changed = function () {
      history.replaceState(null, "", location.pathname + query());
      clearTimeout(debounce);
      debounce = setTimeout(poll, 200);
    };
    form.addEventListener("submit", function (e) { e.preventDefault(); changed(); });
    form.addEventListener("change", changed);
    form.addEventListener("input", changed);
    var clear = document.getElementById("filter-clear");
    if (clear) clear.addEventListener("click", function (e) { e.preventDefault(); form.reset(); Array.prototype.forEach.call(form.elements, function (el) { if (el.name) el.value = ""; }); changed(); });
  }
  if (src && every > 0) timer = setTimeout(poll, every);
})();
