/* Enterprise maps (Leaflet). Data comes from a JSON script element named by data-map-source;
   a point may carry extra popup lines, its own link (href, link_label) and size (radius);
   zones (a GeoJSON FeatureCollection, properties label and colour) are drawn under the points.
   A live page redraws a map after replacing its data: window.AnjianMap.draw(el).
   With no tile URL configured (intranets have no internet) markers are drawn on a plain grid,
   framed by the jurisdiction's division centroids. */
(function () {
  "use strict";
  var CHINA = [35.86, 104.19];

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-map-source"));
    if (!source || !window.L) return;
    var data = JSON.parse(source.textContent);
    if (el._anjianMap) el._anjianMap.remove();
    var map = L.map(el, { attributionControl: !!data.tiles });
    el._anjianMap = map;
    if (data.tiles) {
      L.tileLayer(data.tiles.url, { attribution: esc(data.tiles.attribution || ""), maxZoom: 18 }).addTo(map);
    } else {
      el.classList.add("no-tiles");
    }
    var bounds = [];
    (data.places || []).forEach(function (p) {
      L.circleMarker([p.lat, p.lng], {
        radius: 3, color: "#9aa0ac", weight: 1, fillColor: "#9aa0ac", fillOpacity: 0.7, interactive: false,
        className: "place-marker"
      }).addTo(map).bindTooltip(esc(p.name), { permanent: true, direction: "right", className: "place-label" });
      bounds.push([p.lat, p.lng]);
    });
    // Zones are added once the view is set (a path needs the map's frame), under the points.
    var zones = null;
    if (data.zones && data.zones.features && data.zones.features.length) {
      zones = L.geoJSON(data.zones, {
        style: function (f) {
          var colour = (f.properties && f.properties.colour) || "#d63939";
          return { color: colour, weight: 1, fillColor: colour, fillOpacity: 0.18, className: "zone" };
        },
        onEachFeature: function (f, layer) {
          if (f.properties && f.properties.label) layer.bindTooltip(esc(f.properties.label), { sticky: true });
        }
      });
      var zb = zones.getBounds();
      bounds.push([zb.getSouth(), zb.getWest()], [zb.getNorth(), zb.getEast()]);
    }
    (data.points || []).forEach(function (p) {
      var marker = L.circleMarker([p.lat, p.lng], {
        radius: p.radius || 8, color: "#ffffff", weight: 2, fillColor: p.colour, fillOpacity: 0.95,
        className: "enterprise-marker enterprise-" + p.id
      }).addTo(map);
      var html = '<div class="popup-title">' + esc(p.name) + "</div>";
      if (p.category) html += '<div class="text-secondary">' + esc(p.category) + " · " + esc(p.status) + "</div>";
      (p.lines || []).forEach(function (line) { html += '<div class="small">' + esc(line) + "</div>"; });
      // A page may link its markers elsewhere (a local path); the default is the enterprise file.
      var href = p.href && p.href.charAt(0) === "/" && p.href.charAt(1) !== "/" ? p.href : "/enterprises/" + encodeURIComponent(p.id);
      html += '<a href="' + esc(href) + '">' + esc(p.link_label || "查看企业档案") + "</a>";
      marker.bindPopup(html);
      bounds.push([p.lat, p.lng]);
    });
    if (bounds.length > 1) {
      map.fitBounds(bounds, { padding: [40, 40], maxZoom: 12 });
    } else if (bounds.length === 1) {
      map.setView(bounds[0], data.zoom || 11);
    } else {
      map.setView(CHINA, 4);
    }
    if (zones) zones.addTo(map).bringToBack();
    L.control.scale({ imperial: false }).addTo(map);
  }

  window.AnjianMap = { draw: draw };
  document.querySelectorAll("[data-map-source]").forEach(draw);
})();
