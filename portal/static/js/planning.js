// Planning maps: markers for the listed results (the list beside it stays the source of truth),
// and drawing an alert area by clicking (or pressing Enter at the cross-hair) on the map.
(function () {
  "use strict";
  if (!window.L) return;

  function baseMap(el) {
    var config = JSON.parse(el.getAttribute("data-map-config"));
    el.hidden = false;
    var map = L.map(el, { keyboard: true, scrollWheelZoom: false });
    L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
    map.fitBounds(config.bounds);
    var container = map.getContainer();
    container.setAttribute("role", "region");
    // Leaflet names its zoom buttons "Zoom in"/"Zoom out" while showing "+"/"−": the name
    // must contain what is seen (WCAG 2.5.3).
    var zoomIn = container.querySelector(".leaflet-control-zoom-in");
    var zoomOut = container.querySelector(".leaflet-control-zoom-out");
    if (zoomIn) zoomIn.setAttribute("aria-label", "+ Zoom in");
    if (zoomOut) zoomOut.setAttribute("aria-label", "\u2212 Zoom out");
    return map;
  }

  function showResults(el) {
    if (el.getAttribute("data-ready")) return;
    el.setAttribute("data-ready", "1");
    var markers = JSON.parse(el.getAttribute("data-markers") || "[]");
    var map = baseMap(el);
    map.getContainer().setAttribute("aria-label", el.getAttribute("data-map-label") ||
      "Map of the " + markers.length + (markers.length === 1 ? " application" : " applications") + " listed");
    var help = el.parentNode.querySelector(".planning-map-help");
    if (help) help.hidden = false;
    var points = [];
    markers.forEach(function (m) {
      // Markers stay out of the tab order: nearby markers overlap, and the list beside the map
      // already gives keyboard and screen reader users the same links, one per application.
      var marker = L.marker([m.lat, m.lon], { keyboard: false, alt: m.ref + ", " + m.address, title: m.ref });
      var link = document.createElement("a");
      link.href = m.url;
      link.className = "planning-popup-link";
      link.textContent = m.ref + ": " + m.address;
      marker.bindPopup(link);
      marker.addTo(map);
      points.push([m.lat, m.lon]);
    });
    // No animation: the view is set once, before anyone can reach a marker, and nothing moves
    // on its own after the page has loaded.
    if (points.length === 1) map.setView(points[0], 16, { animate: false });
    else if (points.length > 1) map.fitBounds(points, { padding: [20, 20], animate: false });
  }

  function drawArea(el) {
    if (el.getAttribute("data-ready")) return;
    el.setAttribute("data-ready", "1");
    var input = document.getElementById(el.getAttribute("data-draw-target"));
    var map = baseMap(el);
    map.getContainer().setAttribute("aria-label", "Map for drawing your alert area");
    map.getContainer().setAttribute("aria-describedby", "draw-help");
    document.querySelectorAll(".planning-js-only").forEach(function (n) { n.hidden = false; });
    var status = document.getElementById("draw-status");
    var corners = [];
    var shape = null;
    var dots = L.layerGroup().addTo(map);

    function render() {
      if (shape) map.removeLayer(shape);
      dots.clearLayers();
      corners.forEach(function (c) { L.circleMarker(c, { radius: 5 }).addTo(dots); });
      if (corners.length >= 3) shape = L.polygon(corners).addTo(map);
      else if (corners.length === 2) shape = L.polyline(corners).addTo(map);
      else shape = null;
      input.value = corners.map(function (c) { return c[0].toFixed(6) + "," + c[1].toFixed(6); }).join("; ");
      status.textContent = corners.length + (corners.length === 1 ? " corner" : " corners") + " added" +
        (corners.length < 3 ? ". Add at least 3." : ".");
    }

    if (input.value) {
      input.value.split(";").forEach(function (part) {
        var bits = part.split(",");
        if (bits.length === 2 && !isNaN(parseFloat(bits[0]))) corners.push([parseFloat(bits[0]), parseFloat(bits[1])]);
      });
      if (corners.length) render();
    }
    map.on("click", function (e) { corners.push([e.latlng.lat, e.latlng.lng]); render(); });
    map.getContainer().addEventListener("keydown", function (e) {
      if (e.key === "Enter" && e.target === map.getContainer()) {
        e.preventDefault();
        var c = map.getCenter();
        corners.push([c.lat, c.lng]);
        render();
      }
    });
    document.getElementById("draw-undo").addEventListener("click", function () { corners.pop(); render(); });
    document.getElementById("draw-clear").addEventListener("click", function () { corners = []; render(); });
    input.addEventListener("change", function () {
      corners = [];
      input.value.split(";").forEach(function (part) {
        var bits = part.split(",");
        if (bits.length === 2 && !isNaN(parseFloat(bits[0]))) corners.push([parseFloat(bits[0]), parseFloat(bits[1])]);
      });
      render();
    });
    // A map inside a hidden conditional reveal needs resizing when it is shown.
    var radio = document.getElementById("area-3");
    if (radio) radio.addEventListener("change", function () { setTimeout(function () { map.invalidateSize(); map.fitBounds(JSON.parse(el.getAttribute("data-map-config")).bounds); }, 0); });
  }

  function init(root) {
    root.querySelectorAll(".planning-map[data-markers]").forEach(showResults);
    root.querySelectorAll(".planning-map[data-draw-target]").forEach(drawArea);
  }

  init(document);
  document.body.addEventListener("htmx:afterSwap", function (e) { init(e.target.parentNode || document); });
})();
