/* 事故报送: the chain's live clocks (each level's own 2 h and the statutory ones) and the
   quick report's grade preview. */
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function span(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    return Math.floor(s / 3600) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
  }
  var clocks = document.querySelectorAll(".accident-clock[data-due]");
  function tick() {
    var now = Date.now();
    clocks.forEach(function (el) {
      var left = Date.parse(el.getAttribute("data-due")) - now;
      var over = left < 0;
      el.textContent = (over ? "已超时 " : "剩余 ") + span(left);
      /* the agency's own clock turns red (its 迟报); the statutory one orange */
      (el.getAttribute("data-over") || "text-red fw-bold").split(" ").forEach(function (c) {
        el.classList.toggle(c, over);
      });
    });
  }
  if (clocks.length) { tick(); window.setInterval(tick, 1000); }

  var form = document.getElementById("accident-form");
  var out = document.getElementById("grade-preview");
  if (!form || !out) return;
  var names = ["deaths", "missing", "serious_injuries", "direct_loss_cny"];
  var timer = null;
  function preview() {
    var params = new URLSearchParams();
    names.forEach(function (n) {
      var field = form.elements[n];
      if (field && field.value.trim()) params.set(n, field.value.trim());
    });
    fetch("/accidents/grade-preview?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (g) {
        if (!g || g.error) { out.textContent = g ? g.error : "—"; return; }
        out.textContent = g.grade + "事故" + (g.provisional ? "（暂定，含下落不明）" : "") +
          " · 须报至" + g.report_to;
        out.setAttribute("data-grade", g.grade_code);
      })
      .catch(function () { out.textContent = "—"; });
  }
  form.addEventListener("input", function (ev) {
    if (names.indexOf(ev.target.name) < 0) return;
    window.clearTimeout(timer);
    timer = window.setTimeout(preview, 250);
  });
  preview();
})();
