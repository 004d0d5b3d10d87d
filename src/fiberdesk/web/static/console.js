// Results as you type for the console's search box. The box is an ordinary GET form, so
// without JavaScript the same search runs on Enter; this only adds the live list.
(function () {
  "use strict";
  var box = document.getElementById("global-search");
  var list = document.getElementById("search-suggestions");
  if (!box || !list) { return; }
  var timer = null, seq = 0, active = -1;

  function links() { return list.querySelectorAll("a"); }
  function hide() { list.hidden = true; list.innerHTML = ""; active = -1; box.setAttribute("aria-expanded", "false"); }
  function mark(i) {
    var all = links();
    all.forEach(function (a, j) { a.setAttribute("aria-selected", j === i ? "true" : "false"); });
    active = i;
  }
  function fetchNow() {
    var q = box.value.trim();
    if (q.length < 2) { hide(); return; }
    var mine = ++seq;
    fetch(box.dataset.suggest + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        if (mine !== seq) { return; }
        list.innerHTML = html;
        list.hidden = html.trim() === "";
        box.setAttribute("aria-expanded", list.hidden ? "false" : "true");
        active = -1;
      })
      .catch(hide);
  }
  box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(fetchNow, 120); });
  box.addEventListener("keydown", function (e) {
    var all = links();
    if (e.key === "ArrowDown" && all.length) { e.preventDefault(); mark(Math.min(active + 1, all.length - 1)); }
    else if (e.key === "ArrowUp" && all.length) { e.preventDefault(); mark(Math.max(active - 1, 0)); }
    else if (e.key === "Enter" && active >= 0) { e.preventDefault(); all[active].click(); }
    else if (e.key === "Escape") { hide(); }
  });
  document.addEventListener("click", function (e) { if (!list.contains(e.target) && e.target !== box) { hide(); } });
})();
