/* The command screen (大屏): ECharts charts and a Leaflet map drawn once, then updated in place
   when the stream says the figures changed (setOption with the new data; the map's layer
   emptied and refilled), so the page runs for days without growing. */
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root || !window.echarts) return;
  var TEXT = "#d8e1ee", MUTED = "#8fa3bf", GRID = "#1e3a5f";
  var charts = {};
  var status = document.getElementById("live-status");

  function chart(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    charts[id] = charts[id] || echarts.init(el, null, { renderer: "canvas" });
    return charts[id];
  }

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = value;
  }

  function pie(id, slices, unit) {
    var c = chart(id);
    if (!c) return;
    var shown = slices.filter(function (s) { return s.value > 0; });  // no "0" labels piled up
    c.setOption({
      title: { show: !shown.length, text: "暂无", left: "center", top: "middle", textStyle: { color: MUTED, fontSize: 14 } },
      tooltip: { trigger: "item", formatter: "{b}：{c} " + unit + "（{d}%）" },
      legend: { type: "scroll", bottom: 0, textStyle: { color: MUTED }, data: slices.map(function (s) { return s.label; }) },
      series: [{ type: "pie", radius: ["38%", "62%"], center: ["50%", "42%"],
        label: { color: TEXT, formatter: "{b}\n{c}" },
        data: shown.map(function (s) { return { name: s.label, value: s.value, itemStyle: s.colour ? { color: s.colour } : {} }; }) }]
    });
  }

  function draw(d) {
    var alarms = d.alarms_by_level.reduce(function (n, s) { return n + s.value; }, 0);
    text("kpi-alarms", alarms);
    text("kpi-unack", d.alarms_unacknowledged);
    var online = document.getElementById("kpi-online");
    if (online) online.innerHTML = d.online_rate === null ? "—" : d.online_rate + "<small>%</small>";
    text("kpi-points", d.points);
    text("kpi-hazards", d.hazards_open);
    text("kpi-major", d.hazards_major_open);
    text("kpi-overdue", d.hazards_overdue);
    text("kpi-accidents", d.accidents);
    text("kpi-accidents-last", d.accidents_last);
    text("kpi-deaths", d.deaths);
    text("kpi-events", d.events_in_progress.length);
    pie("chart-alarms", d.alarms_by_level, "条");
    pie("chart-risk", d.enterprises_by_risk, "家");
    var hz = chart("chart-hazards");
    if (hz) hz.setOption({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 40, right: 12, top: 12, bottom: 28 },
      xAxis: { type: "category", data: d.hazards_by_state.map(function (s) { return s.label; }), axisLabel: { color: MUTED }, axisLine: { lineStyle: { color: GRID } } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { color: MUTED }, splitLine: { lineStyle: { color: GRID } } },
      series: [{ type: "bar", data: d.hazards_by_state.map(function (s) { return s.value; }), itemStyle: { color: "#f76707" }, barMaxWidth: 36 }]
    });
    var ac = chart("chart-accidents");
    if (ac) ac.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0, right: 0, textStyle: { color: MUTED } },
      grid: { left: 32, right: 12, top: 28, bottom: 28 },
      xAxis: { type: "category", data: d.accident_months.map(function (m) { return m.slice(5) + "月"; }), axisLabel: { color: MUTED }, axisLine: { lineStyle: { color: GRID } } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { color: MUTED }, splitLine: { lineStyle: { color: GRID } } },
      series: [
        { name: "今年", type: "bar", data: d.accidents_this_year, itemStyle: { color: "#4dabf7" }, barMaxWidth: 18 },
        { name: "去年同期", type: "line", data: d.accidents_last_year, itemStyle: { color: "#868e96" } }
      ]
    });
    var list = document.getElementById("event-list");
    if (list) {
      list.textContent = "";
      if (!d.events_in_progress.length) {
        var none = document.createElement("li");
        none.className = "none";
        none.textContent = "无处置中的事件";
        list.appendChild(none);
      }
      d.events_in_progress.forEach(function (e) {
        var li = document.createElement("li"), a = document.createElement("a"), s = document.createElement("span");
        a.href = "/emergency/events/" + encodeURIComponent(e.id);
        a.textContent = e.title;
        s.textContent = e.level_label + " · " + e.division_name;
        li.appendChild(a);
        li.appendChild(s);
        list.appendChild(li);
      });
    }
  }

  // --- the map: the enterprises layer of the one map, clusters or single enterprises, over the
  // outlines of the divisions the zoom shows (packaged data: legible with no tiles at all) -----
  var map = null, layer = null, outlines = null, pending = null, pendingOutlines = null, framed = false;
  function drawMap() {
    var el = document.getElementById("screen-map"), src = document.getElementById("screen-map-data");
    if (!el || !src || !window.L) return;
    var cfg = JSON.parse(src.textContent);
    map = L.map(el, { attributionControl: !!cfg.tiles, zoomControl: false });
    if (cfg.tiles) {
      L.tileLayer(cfg.tiles.url, { maxZoom: 18 }).addTo(map);
    } else {
      el.classList.add("no-tiles");
    }
    if (cfg.frame.length > 1) map.fitBounds(cfg.frame, { padding: [20, 20] });
    else if (cfg.frame.length === 1) map.setView(cfg.frame[0], 10);
    else map.setView([35.86, 104.19], 4);
    outlines = L.layerGroup().addTo(map);
    layer = L.layerGroup().addTo(map);
    map.on("moveend", loadMap);
    loadMap();
  }

  function features(name, box, controller) {
    var url = "/api/v1/map/features?layer=" + name + "&zoom=" + Math.round(map.getZoom()) + "&bbox=" + box;
    return fetch(url, { credentials: "same-origin", signal: controller.signal, headers: { "X-Anjian-Live": "1" } })
      .then(function (r) { return r.ok ? r.json() : null; });
  }

  function loadOutlines(box) {
    if (pendingOutlines) pendingOutlines.abort();
    pendingOutlines = new AbortController();
    features("divisions", box, pendingOutlines)
      .then(function (fc) {
        if (!fc) return;
        outlines.clearLayers();
        L.geoJSON(fc, {
          interactive: false,
          style: function () { return { color: "#4f7cb3", weight: 1, fillColor: "#4f7cb3", fillOpacity: 0.05, className: "screen-outline" }; }
        }).addTo(outlines);
      })
      .catch(function () { /* aborted or offline: the next move asks again */ });
  }

  function loadMap() {
    if (!map) return;
    if (pending) pending.abort();
    pending = new AbortController();
    var b = map.getBounds();
    var box = [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -90), Math.min(b.getEast(), 180), Math.min(b.getNorth(), 90)]
      .map(function (v) { return v.toFixed(5); }).join(",");
    loadOutlines(box);
    features("enterprises", box, pending)
      .then(function (fc) {
        if (!fc) return;
        layer.clearLayers();
        if (!framed && fc.features.length > 1 && !fc.clustered) {
          // The first answer frames the map on what there is (a county's enterprises lie close).
          framed = true;
          map.fitBounds(fc.features.map(function (f) { return [f.geometry.coordinates[1], f.geometry.coordinates[0]]; }), { padding: [30, 30], maxZoom: 13 });
          return;  // the move asks again at the new frame
        }
        framed = true;
        fc.features.forEach(function (f) {
          var p = f.properties, ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
          if (p.cluster) {
            var r = Math.min(26, 6 + Math.sqrt(p.count) * 1.6);
            L.circleMarker(ll, { radius: r, color: p.colour, weight: 1, fillColor: p.colour, fillOpacity: 0.55 })
              .bindTooltip(String(p.count), { permanent: true, direction: "center", className: "cluster-label" })
              .addTo(layer);
          } else {
            L.circleMarker(ll, { radius: 5, color: "#e8f1ff", weight: 1, fillColor: p.colour, fillOpacity: 0.95 })
              .bindTooltip(p.name + "（" + p.kind_label + "）").addTo(layer);
          }
        });
        map.getContainer().setAttribute("data-drawn", String(fc.features.length));
      })
      .catch(function () { /* aborted or offline: the next move asks again */ });
  }

  // --- live: the stream says the figures changed; fetch them and redraw in place --------------
  var revision = root.getAttribute("data-live-revision") || "";
  function listen() {
    if (!window.EventSource) return;
    var source = new EventSource(root.getAttribute("data-live-stream") + "?since=" + encodeURIComponent(revision));
    source.onopen = function () { if (status) { status.textContent = "实时"; status.className = "live"; } };
    source.onerror = function () { if (status) { status.textContent = "重新连接中…"; status.className = "live down"; } };
    source.addEventListener("logout", function (ev) { source.close(); window.location.assign(ev.data); });
    source.addEventListener("changed", function () {
      source.close();
      fetch("/screen/figures", { credentials: "same-origin", headers: { "X-Anjian-Live": "1" } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (body) { revision = body.revision; draw(body.figures); listen(); })
        .catch(function () { setTimeout(listen, 5000); });
    });
  }

  function tick() {
    var now = new Date();
    text("clock", now.toLocaleString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" }));
  }

  // For bench/screen_memory.py, which redraws a day's worth of updates and measures the heap.
  window.AnjianScreen = { draw: draw, loadMap: loadMap };
  draw(JSON.parse(document.getElementById("screen-data").textContent));
  drawMap();
  tick();
  setInterval(tick, 1000);
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  listen();
})();
