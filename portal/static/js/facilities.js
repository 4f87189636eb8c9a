// Find your nearest: a map of the places listed (the list stays the source of truth).
(function () {
  "use strict";
  if (!window.L) return;

  function show(el) {
    if (el.getAttribute("data-ready")) return;
    el.setAttribute("data-ready", "1");
    var config = JSON.parse(el.getAttribute("data-map-config"));
    var markers = JSON.parse(el.getAttribute("data-markers") || "[]");
    el.hidden = false;
    var map = L.map(el, { keyboard: true, scrollWheelZoom: false });
    L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
    var container = map.getContainer();
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", el.getAttribute("data-map-label") || "Map of the places listed");
    // The zoom buttons' names must contain what is seen (WCAG 2.5.3).
    var zoomIn = container.querySelector(".leaflet-control-zoom-in");
    var zoomOut = container.querySelector(".leaflet-control-zoom-out");
    if (zoomIn) zoomIn.setAttribute("aria-label", "+ Zoom in");
    if (zoomOut) zoomOut.setAttribute("aria-label", "\u2212 Zoom out");
    var help = el.parentNode.querySelector(".facilities-map-help");
    if (help) help.hidden = false;
    var points = [];
    markers.forEach(function (m) {
      // Out of the tab order: the list below gives the same places to keyboard users.
      var marker = L.marker([m.lat, m.lon], { keyboard: false, alt: m.text, title: m.name });
      var link = document.createElement("a");
      link.href = m.url;
      link.textContent = m.text;
      marker.bindPopup(link);
      marker.addTo(map);
      points.push([m.lat, m.lon]);
    });
    if (points.length === 1) map.setView(points[0], 15, { animate: false });
    else if (points.length > 1) map.fitBounds(points, { padding: [30, 30], animate: false });
    else map.fitBounds(config.bounds);
  }

  document.querySelectorAll(".facilities-map[data-markers]").forEach(show);
})();
