/* 一张图 (the one map, /onemap). The page's JSON (script#onemap-data) names the layers, the base
   map (tiles, or none: a plain grid with the divisions' names) and the points that frame the
   jurisdiction. Each layer that is switched on is fetched from GET /api/v1/map/features for the
   box in view (the console's session cookie authenticates a GET) whenever the map stops moving
   (debounced; a newer request aborts the older one of the same layer) or its filter changes.
   The answer is either clusters — drawn as a ring of the breakdown by kind around the count —
   or single features (circle markers with a popup linking to the record's page), or, for the
   threat zones, polygons. The panel's legend shows the answer's counts by kind. */
(function () {
  "use strict";
  var CHINA = [35.86, 104.19];
  var DEBOUNCE_MS = 250;
  var MAX_ZOOM = 18;
  // Single features: the radius of each layer's marker (a ring for the risk levels, drawn round
  // the enterprise's dot at the same place).
  var RADIUS = {
    enterprises: 7, risk: 11, major_hazards: 6, alarms: 5, hidden_hazards: 5, accidents: 6,
    emergency_resources: 6, emergency_events: 8
  };
  var RINGS = { risk: true };

  var source = document.getElementById("onemap-data");
  var el = document.getElementById("onemap");
  var statusEl = document.getElementById("onemap-status");
  if (!source || !el || !window.L) return;
  var data = JSON.parse(source.textContent);

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function localHref(href) {
    return typeof href === "string" && href.charAt(0) === "/" && href.charAt(1) !== "/" ? href : null;
  }

  function shortCount(n) {
    if (n >= 100000) return Math.round(n / 10000) + "万";
    if (n >= 10000) return (n / 10000).toFixed(1).replace(/\.0$/, "") + "万";
    return String(n);
  }

  // --- the map ---------------------------------------------------------------------------------

  // Half steps let the jurisdiction fill the map; requests name the nearest whole zoom.
  var map = L.map(el, { attributionControl: !!data.tiles, maxZoom: MAX_ZOOM, minZoom: 3, zoomSnap: 0.5 });
  if (data.tiles) {
    L.tileLayer(data.tiles.url, { attribution: esc(data.tiles.attribution || ""), maxZoom: MAX_ZOOM }).addTo(map);
  } else {
    el.classList.add("no-tiles");
  }
  map.createPane("onemap-places").style.zIndex = 380;
  (data.places || []).forEach(function (p) {
    L.circleMarker([p.lat, p.lng], {
      pane: "onemap-places", radius: 3, color: "#9aa0ac", weight: 1, fillColor: "#9aa0ac",
      fillOpacity: 0.7, interactive: false, className: "place-marker"
    }).addTo(map).bindTooltip(esc(p.name), { permanent: true, direction: "right", className: "place-label" });
  });
  var frame = data.frame || [];
  if (frame.length > 1) {
    // Centroids frame the divisions' middles: a margin shows their edges too.
    map.fitBounds(L.latLngBounds(frame).pad(0.12), { maxZoom: 11 });
  } else if (frame.length === 1) {
    map.setView(frame[0], 11);
  } else {
    map.setView(CHINA, 5);
  }
  L.control.scale({ imperial: false }).addTo(map);

  // --- the layers ------------------------------------------------------------------------------

  var layers = {};
  var pending = 0;
  data.layers.forEach(function (info, i) {
    // One pane per layer, in the panel's order (the first lowest); polygons under every marker.
    var pane = "onemap-" + info.name;
    map.createPane(pane).style.zIndex = info.geometry === "polygon" ? 390 : 410 + i;
    var panel = document.querySelector('.onemap-layer[data-layer="' + info.name + '"]');
    layers[info.name] = {
      info: info,
      pane: pane,
      panel: panel,
      group: L.layerGroup().addTo(map),
      on: info.on,
      controller: null,
      colours: info.legend.reduce(function (acc, item) { acc[item.kind] = item.colour; return acc; }, {})
    };
  });

  function setPending(delta) {
    pending += delta;
    el.setAttribute("data-pending", String(pending));
    if (pending > 0) status("加载中…", false);
    else if (statusEl && !statusEl.classList.contains("error")) status("", false);
  }

  function status(text, error) {
    if (!statusEl) return;
    statusEl.textContent = text;
    statusEl.classList.toggle("error", !!error);
    statusEl.hidden = !text;
  }

  function box() {
    var b = map.getBounds().pad(0.05);
    var west = Math.max(-180, b.getWest()), east = Math.min(180, b.getEast());
    var south = Math.max(-90, b.getSouth()), north = Math.min(90, b.getNorth());
    if (east <= west) east = Math.min(180, west + 1e-5);
    if (north <= south) north = Math.min(90, south + 1e-5);
    return [west, south, east, north].map(function (v) { return v.toFixed(5); }).join(",");
  }

  function filters(state) {
    var out = {};
    if (!state.panel) return out;
    state.panel.querySelectorAll("[data-layer-filter]").forEach(function (sel) {
      if (sel.value) out[sel.name] = sel.value;
    });
    return out;
  }

  function legend(state, answer) {
    var counts = {};
    if (answer) answer.legend.forEach(function (item) { counts[item.kind] = item.count; });
    if (state.panel) {
      state.panel.querySelectorAll(".onemap-legend-row").forEach(function (row) {
        var n = counts[row.getAttribute("data-kind")] || 0;
        row.querySelector(".onemap-count").textContent = answer ? String(n) : "";
        row.classList.toggle("text-secondary", !!answer && n === 0);
      });
    }
    var total = document.getElementById("total-" + state.info.name);
    if (total) {
      total.textContent = answer ? "共 " + answer.total + (answer.clustered ? "（聚合）" : "") : "";
    }
  }

  function popup(state, p) {
    var html = '<div class="popup-title">' + esc(p.name || "") + "</div>";
    html += '<div class="text-secondary">' + esc(state.info.label) + " · " + esc(p.kind_label || "") + "</div>";
    (p.lines || []).forEach(function (line) { html += '<div class="small">' + esc(line) + "</div>"; });
    var href = localHref(p.href);
    if (href) html += '<a href="' + esc(href) + '">查看详情</a>';
    return html;
  }

  // Layers of records at the same enterprises cluster at the same places: the first point layer
  // shown keeps its clusters at their centres, each further one sets its own beside them (up
  // and right, then round), so that none hides another.
  function clusterShift(state) {
    var shown = data.layers.filter(function (info) {
      return info.geometry === "point" && layers[info.name].on;
    }).map(function (info) { return info.name; });
    var k = shown.indexOf(state.info.name);
    if (k <= 0) return [0, 0];
    var angle = ((-45 + (k - 1) * 60) * Math.PI) / 180;
    return [Math.round(22 * Math.cos(angle)), Math.round(22 * Math.sin(angle))];
  }

  function cluster(state, f) {
    var p = f.properties;
    var kinds = Object.keys(p.breakdown || {}).sort(function (a, b) { return p.breakdown[b] - p.breakdown[a]; });
    var stops = [], at = 0;
    kinds.forEach(function (kind) {
      var share = (p.breakdown[kind] / p.count) * 100;
      var colour = state.colours[kind] || "#868e96";
      stops.push(colour + " " + at.toFixed(2) + "% " + (at + share).toFixed(2) + "%");
      at += share;
    });
    var size = Math.round(22 + 7 * Math.log10(Math.max(1, p.count)));
    var ring = stops.length ? "conic-gradient(" + stops.join(", ") + ")" : p.colour;
    var shift = clusterShift(state);
    var icon = L.divIcon({
      className: "onemap-cluster-icon onemap-cluster-" + state.info.name,
      iconSize: [size, size],
      iconAnchor: [size / 2 - shift[0], size / 2 - shift[1]],
      html: '<div class="onemap-cluster" style="width:' + size + "px;height:" + size + "px;background:" + ring + '">' +
        "<span>" + esc(shortCount(p.count)) + "</span></div>"
    });
    var latlng = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
    // The smaller clusters over the larger ones (markers stack by their place on the screen).
    var marker = L.marker(latlng, {
      icon: icon, pane: state.pane, keyboard: false, zIndexOffset: -Math.round(1000 * Math.log10(p.count))
    });
    var parts = kinds.map(function (kind) {
      var item = state.info.legend.filter(function (x) { return x.kind === kind; })[0];
      return esc(item ? item.label : kind) + " " + p.breakdown[kind];
    });
    marker.bindTooltip(esc(state.info.label) + " " + p.count + "<br>" + parts.join("<br>"), { direction: "top" });
    marker.on("click", function () { map.setView(latlng, Math.min(map.getZoom() + 2, MAX_ZOOM)); });
    return marker;
  }

  function point(state, f) {
    var p = f.properties;
    var ring = RINGS[state.info.name];
    var marker = L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]], {
      pane: state.pane,
      radius: RADIUS[state.info.name] || 6,
      color: ring ? p.colour : "#ffffff",
      weight: ring ? 3 : 1.5,
      fill: !ring,
      fillColor: p.colour,
      fillOpacity: 0.95,
      className: "onemap-point onemap-point-" + state.info.name
    });
    return marker.bindPopup(popup(state, p));
  }

  function shape(state, f) {
    var colour = f.properties.colour;
    var fill = f.properties.fill_opacity != null ? f.properties.fill_opacity : 0.18;
    return L.geoJSON(f, {
      pane: state.pane,
      style: function () {
        return { color: colour, weight: fill < 0.1 ? 1.5 : 1, fillColor: colour, fillOpacity: fill, className: "onemap-zone" };
      }
    }).bindPopup(popup(state, f.properties));
  }

  // Records at the very same place (a firm's alarms, its hazards) are one marker: the count on
  // it, the colour of the first (the worst kind: legends list kinds worst first), a popup
  // listing them.
  var STACK_LISTED = 20;

  function stack(state, features) {
    var order = state.info.legend.map(function (item) { return item.kind; });
    features.sort(function (a, b) { return order.indexOf(a.properties.kind) - order.indexOf(b.properties.kind); });
    var first = features[0];
    var icon = L.divIcon({
      className: "onemap-stack-icon onemap-stack-" + state.info.name,
      iconSize: [22, 22],
      html: '<div class="onemap-stack" style="background:' + first.properties.colour + '">' + features.length + "</div>"
    });
    // The same name on every one (an enterprise's alarms): tell them apart by their first line.
    var oneName = features.every(function (f) { return f.properties.name === first.properties.name; });
    var html = '<div class="popup-title">' + esc(state.info.label) + " " + features.length + " 条</div>";
    if (oneName) html += '<div class="text-secondary">' + esc(first.properties.name || "") + "</div>";
    features.slice(0, STACK_LISTED).forEach(function (f) {
      var p = f.properties, href = localHref(p.href);
      var what = oneName && p.lines && p.lines.length ? p.lines[0] : p.name || "";
      var title = esc(what) + " · " + esc(p.kind_label || "");
      html += '<div class="small">' + (href ? '<a href="' + esc(href) + '">' + title + "</a>" : title) + "</div>";
    });
    if (features.length > STACK_LISTED) html += '<div class="small text-secondary">…另有 ' + (features.length - STACK_LISTED) + " 条</div>";
    var latlng = [first.geometry.coordinates[1], first.geometry.coordinates[0]];
    return L.marker(latlng, { icon: icon, pane: state.pane, keyboard: false }).bindPopup(html);
  }

  function draw(state, answer) {
    state.answer = answer;
    state.group.clearLayers();
    var places = {};
    answer.features.forEach(function (f) {
      var p = f.properties || {};
      if (f.geometry.type !== "Point") state.group.addLayer(shape(state, f));
      else if (p.cluster) state.group.addLayer(cluster(state, f));
      else (places[f.geometry.coordinates.join(",")] = places[f.geometry.coordinates.join(",")] || []).push(f);
    });
    Object.keys(places).forEach(function (at) {
      var here = places[at];
      state.group.addLayer(here.length > 1 ? stack(state, here) : point(state, here[0]));
    });
    legend(state, answer);
  }

  function refresh(state) {
    if (state.controller) state.controller.abort();
    state.controller = null;
    if (!state.on) {
      state.answer = null;
      state.group.clearLayers();
      legend(state, null);
      return;
    }
    var controller = new AbortController();
    state.controller = controller;
    var params = new URLSearchParams(filters(state));
    params.set("layer", state.info.name);
    params.set("bbox", box());
    params.set("zoom", String(Math.max(0, Math.min(20, Math.round(map.getZoom())))));
    setPending(1);
    fetch(data.api + "?" + params.toString(), {
      credentials: "same-origin", signal: controller.signal, headers: { Accept: "application/json" }
    }).then(function (r) {
      if (r.status === 401) throw new Error("登录已过期，请刷新页面重新登录");
      if (!r.ok) {
        return r.json().then(
          function (body) { throw new Error(body.detail || ("HTTP " + r.status)); },
          function () { throw new Error("HTTP " + r.status); }
        );
      }
      return r.json();
    }).then(function (answer) {
      if (state.controller !== controller) return;  // a newer request is on its way
      state.controller = null;
      status("", false);
      draw(state, answer);
    }).catch(function (err) {
      if (err && err.name === "AbortError") return;
      status(state.info.label + "：加载失败（" + (err && err.message ? err.message : err) + "）", true);
    }).then(function () { setPending(-1); });
  }

  function refreshAll() {
    Object.keys(layers).forEach(function (name) { if (layers[name].on) refresh(layers[name]); });
  }

  var timer = null;
  map.on("moveend", function () {
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () { timer = null; refreshAll(); }, DEBOUNCE_MS);
  });

  document.querySelectorAll("[data-layer-toggle]").forEach(function (box) {
    box.addEventListener("change", function () {
      var state = layers[box.getAttribute("data-layer-toggle")];
      if (!state) return;
      state.on = box.checked;
      if (state.panel) state.panel.classList.toggle("on", state.on);
      refresh(state);
      // The clusters of the other layers shown move aside (or back) for this one.
      Object.keys(layers).forEach(function (name) {
        var other = layers[name];
        if (other !== state && other.on && other.answer && other.answer.clustered) draw(other, other.answer);
      });
    });
  });
  document.querySelectorAll("[data-layer-filter]").forEach(function (sel) {
    sel.addEventListener("change", function () {
      var state = layers[sel.getAttribute("data-layer-filter")];
      if (state) refresh(state);
    });
  });

  el.setAttribute("data-pending", "0");
  refreshAll();
})();
