/* Anjian console behaviour (no inline scripts: the pages' CSP allows only /static). */
(function () {
  "use strict";
  // Jurisdiction tree: open and close nodes; htmx loads a node's children on the first open.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest(".jtree-toggle");
    if (!btn) return;
    var li = btn.closest(".jtree-node");
    var open = !li.classList.contains("open");
    li.classList.toggle("open", open);
    btn.setAttribute("aria-expanded", open ? "true" : "false");
    btn.setAttribute("aria-label", open ? "折叠" : "展开");
    var children = li.querySelector(":scope > .jtree-children");
    if (children) children.hidden = !open;
  });
  if (window.htmx) {
    // Pages hold personal data: never keep page snapshots in localStorage; no eval.
    htmx.config.historyCacheSize = 0;
    htmx.config.refreshOnHistoryMiss = true;
    htmx.config.allowEval = false;
  }
})();
