// severa-sandbox dashboard: a little help where it helps; every page works without it.
// * auto-refresh: the parts marked data-live are fetched again every few seconds (never while
//   the user is typing in a form); switched on and off with the checkbox in the top bar.
// * the approver's choice fills in the e-mail for authentication;
// * "copy as curl" copies the line beside the button.
(function () {
  "use strict";
  var KEY = "severa-sandbox.autorefresh";
  var INTERVAL = 3000;

  function enabled() {
    try { return window.localStorage.getItem(KEY) !== "off"; } catch (e) { return true; }
  }

  function busy() {
    var el = document.activeElement;
    return el && (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA");
  }

  function refresh() {
    var live = document.querySelectorAll("[data-live]");
    if (!live.length || !enabled() || busy() || document.hidden) { return; }
    fetch(window.location.href, { headers: { "X-Requested-With": "refresh" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html || busy()) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        live.forEach(function (el) {
          var fresh = doc.querySelector('[data-live="' + el.getAttribute("data-live") + '"]');
          if (fresh && fresh.innerHTML !== el.innerHTML) {
            var open = Array.prototype.map.call(el.querySelectorAll("details[open]"), function (d) { return d.id; });
            el.innerHTML = fresh.innerHTML;
            open.forEach(function (id) { if (id) { var d = document.getElementById(id); if (d) { d.open = true; } } });
          }
        });
        var clock = doc.querySelector('[data-testid="clock"]');
        var mine = document.querySelector('[data-testid="clock"]');
        if (clock && mine) { mine.textContent = clock.textContent; }
        var w = doc.querySelector('[data-testid="worker-status"]');
        var ww = document.querySelector('[data-testid="worker-status"]');
        if (w && ww) { ww.textContent = w.textContent; }
      })
      .catch(function () { /* the sandbox may be stopping: try again later */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("autorefresh");
    if (box) {
      box.checked = enabled();
      box.addEventListener("change", function () {
        try { window.localStorage.setItem(KEY, box.checked ? "on" : "off"); } catch (e) { /* private mode */ }
      });
    }
    window.setInterval(refresh, INTERVAL);

    document.querySelectorAll("select[data-fills]").forEach(function (select) {
      select.addEventListener("change", function () {
        var target = document.getElementById(select.getAttribute("data-fills"));
        var option = select.options[select.selectedIndex];
        if (target && option && option.getAttribute("data-email")) { target.value = option.getAttribute("data-email"); }
      });
    });

    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var pre = button.parentNode.querySelector("pre");
        if (!pre) { return; }
        var done = function () { button.textContent = "Kopioitu / copied"; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(pre.textContent).then(done, function () { selectText(pre); });
        } else {
          selectText(pre);
          done();
        }
      });
    });
  });

  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try { document.execCommand("copy"); } catch (e) { /* the text stays selected for Ctrl-C */ }
  }
})();
