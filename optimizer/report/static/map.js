/* coldchain-optimizer map.html: draws the plan embedded as JSON (#coldchain-data) with
 * Leaflet. Written by optimizer/report/map.py, which documents the data; ES5 (no build step,
 * runs in old browsers too). Nothing is fetched unless an online tile layer is switched on.
 * Times are minutes of the day (shown HH:MM), masses kg, distances km, money yuan. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("coldchain-data").textContent);
  var SITE = D.sites; // [id, name, kind, lat, lon]
  var KIND = {pickup: "collect produce", delivery: "deliver parcels"};

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }
  function hhmm(m) {
    var h = Math.floor(m / 60), mm = m % 60;
    return (h < 10 ? "0" : "") + h + ":" + (mm < 10 ? "0" : "") + mm;
  }
  function num(x, digits) {
    if (x === null || x === undefined) { return "-"; }
    var parts = x.toFixed(digits).split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return parts.join(".");
  }
  function decode(str) { // Google's encoded polyline, 1e-5 degrees -> [[lat, lon], ...]
    var pts = [], i = 0, lat = 0, lon = 0, k, b, shift, result;
    while (i < str.length) {
      for (k = 0; k < 2; k++) {
        shift = 0; result = 0;
        do {
          b = str.charCodeAt(i++) - 63;
          result |= (b & 0x1f) << shift;
          shift += 5;
        } while (b >= 0x20);
        if (k === 0) { lat += (result & 1) ? ~(result >> 1) : (result >> 1); }
        else { lon += (result & 1) ? ~(result >> 1) : (result >> 1); }
      }
      pts.push([lat / 1e5, lon / 1e5]);
    }
    return pts;
  }
  function siteName(i) {
    if (i < 0) { return "?"; }
    return esc(SITE[i][1]) + " <span class=\"cc-id\">(" + esc(SITE[i][0]) + ")</span>";
  }
  function siteShort(i) { // the name, the id on hover
    if (i < 0) { return "?"; }
    return "<span title=\"" + esc(SITE[i][0]) + "\">" + esc(SITE[i][1]) + "</span>";
  }
  function arrives(s) { // arrival, and the start of service when the vehicle waits
    return hhmm(s[2]) + (s[3] > s[2] ? " (waits to " + hhmm(s[3]) + ")" : "");
  }
  function latlng(i) { return [SITE[i][3], SITE[i][4]]; }
  function table(head, rows) {
    var h = "<table><tr>" + head.map(function (c) { return "<th>" + c + "</th>"; }).join("") +
      "</tr>";
    rows.forEach(function (r) {
      h += "<tr>" + r.map(function (c) { return "<td>" + c + "</td>"; }).join("") + "</tr>";
    });
    return h + "</table>";
  }

  var map = L.map("map", {minZoom: 5, maxZoom: 18, zoomSnap: 0.5});
  map.createPane("cc-roads").style.zIndex = 350; // below the routes (overlayPane, 400)
  map.createPane("cc-sites").style.zIndex = 450; // villages and cold stores above them
  if (D.bounds) { map.fitBounds(D.bounds, {padding: [16, 16]}); } else { map.setView([0, 0], 5); }
  var small = window.innerWidth < 700;
  L.control.scale({imperial: false}).addTo(map);

  // base layers: none (offline) by default; online tiles only when switched on
  var base = {"No tiles (offline)": L.layerGroup().addTo(map)};
  D.tiles.forEach(function (t) {
    base[esc(t.name)] = L.layerGroup(t.urls.map(function (u) {
      return L.tileLayer(u, {subdomains: t.subdomains, maxZoom: t.maxZoom,
                             attribution: t.attribution});
    }));
  });

  // the instance's road network by class: the offline background
  var roads = L.layerGroup();
  D.roads.forEach(function (r) { // [class, colour, weight, dash, [encoded, ...]]
    L.polyline(r[4].map(decode), {
      pane: "cc-roads", color: r[1], weight: r[2], dashArray: r[3] || null, opacity: 1,
      interactive: false, className: "cc-road cc-road-" + r[0],
      attribution: esc(D.roadsAttribution)
    }).addTo(roads);
  });
  roads.addTo(map);
  var overlays = {"Roads of the instance": roads};

  // ---- one layer per scenario and plan, drawn when first shown ------------------------
  function routePopup(ly, r) {
    var type = r[0] >= 0 ? D.types[r[0]][0] : "?";
    var rows = r[9].map(function (s, q) { // [site, kind, arrival, start, kg, load after]
      return [String(q + 1), siteShort(s[0]), KIND[s[1]] || esc(s[1]), arrives(s),
              num(s[4], 0), num(s[5], 0)];
    });
    return "<b>" + esc(r[1]) + "</b> (" + esc(type) + "), trip " + r[2] + "<br>" +
      esc(ly.scenario) + ": " + esc(ly.plan) + ", depot " + siteName(r[3]) + "<br>" +
      hhmm(r[4]) + "&ndash;" + hhmm(r[5]) + ", " + num(r[6], 1) + " km, " + num(r[7], 0) +
      " yuan, " + r[9].length + " stop" + (r[9].length === 1 ? "" : "s") +
      table(["stop", "site", "task", "arrives", "kg", "load after (kg)"], rows);
  }

  function sitePopup(ly, i, lines, visits) {
    var rows = (visits[i] || []).map(function (v) { // [route index, stop index]
      var r = ly.routes[v[0]], s = r[9][v[1]];
      return [arrives(s), esc(r[1]), String(r[2]), String(v[1] + 1), KIND[s[1]] || esc(s[1]),
              num(s[4], 0), num(s[5], 0)];
    }).sort(function (a, b) { return a[0] < b[0] ? -1 : (a[0] > b[0] ? 1 : 0); });
    var h = "<b>" + siteName(i) + "</b><br>" + SITE[i][2] + (lines ? "<br>" + lines : "");
    if (rows.length) {
      h += table(["arrives", "vehicle", "trip", "stop", "task", "kg", "load after (kg)"],
                 rows);
    } else {
      h += "<br>no vehicle calls here in " + esc(ly.name);
    }
    return h;
  }

  var numbered = L.layerGroup().addTo(map);
  function showStops(r, line) {
    numbered.clearLayers();
    line.setStyle({weight: 7, opacity: 1});
    line.bringToFront();
    var labels = {};
    r[9].forEach(function (s, q) { (labels[s[0]] = labels[s[0]] || []).push(q + 1); });
    Object.keys(labels).forEach(function (i) {
      L.marker(latlng(+i), {interactive: false, icon: L.divIcon({
        className: "cc-seq", html: "<span>" + labels[i].join(",") + "</span>",
        iconSize: null, iconAnchor: [-6, 10]})}).addTo(numbered);
    });
    if (r[3] >= 0) {
      L.marker(latlng(r[3]), {interactive: false, icon: L.divIcon({
        className: "cc-seq cc-seq-depot", html: "<span>depot</span>", iconSize: null,
        iconAnchor: [-8, 10]})}).addTo(numbered);
    }
  }

  function build(ly, group) {
    var baseline = ly.plan === "baseline", visits = {}, drawn = {};
    ly.routes.forEach(function (r, k) {
      var type = r[0] >= 0 ? D.types[r[0]] : ["?", "#000000"];
      var style = {color: type[1], weight: baseline ? 3 : 4, opacity: 0.8,
                   dashArray: baseline ? "6 6" : null, className: "cc-route"};
      var line = L.polyline(decode(r[8]), style);
      line.bindTooltip(esc(r[1]) + " (" + esc(type[0]) + "), trip " + r[2] + ", " +
                       hhmm(r[4]) + "&ndash;" + hhmm(r[5]) + ", " + r[9].length + " stops",
                       {sticky: true});
      line.bindPopup(function () { return routePopup(ly, r); }, {maxWidth: 560});
      line.on("popupopen", function () { showStops(r, line); });
      line.on("popupclose", function () { numbered.clearLayers(); line.setStyle(style); });
      group.addLayer(line);
      r[9].forEach(function (s, q) { (visits[s[0]] = visits[s[0]] || []).push([k, q]); });
    });
    ly.closed.forEach(function (c) { // [edge id, name, encoded]
      L.polyline(decode(c[2]), {color: "#111111", weight: 5, dashArray: "1 8", opacity: 0.9,
                                lineCap: "round", className: "cc-closed"})
        .bindTooltip("closed in " + esc(ly.scenario) + ": " + esc(c[1] || "road") + " (" +
                     esc(c[0]) + ")", {sticky: true})
        .addTo(group);
    });
    ly.villages.forEach(function (v) { // [site, minutes to the nearest pickup point, households]
      var ok = v[1] !== null && v[1] <= D.radius;
      var lines = num(v[2], 0) + " households; " + (v[1] === null
        ? "no open pickup point reachable"
        : num(v[1], 0) + " min to the nearest open pickup point") +
        (ok ? "" : " (over " + num(D.radius, 0) + " min: not covered)");
      drawn[v[0]] = true;
      L.circleMarker(latlng(v[0]), {pane: "cc-sites", radius: 4, weight: 1,
                                    color: ok ? "#2e7d32" : "#c62828", fillOpacity: 0.85,
                                    className: "cc-village"})
        .bindTooltip(esc(SITE[v[0]][1]))
        .bindPopup(function () { return sitePopup(ly, v[0], lines, visits); }, {maxWidth: 560})
        .addTo(group);
    });
    ly.stores.forEach(function (s) { // [site, modules, t per module, existing]
      var lines = s[1] + " module" + (s[1] === 1 ? "" : "s") + " x " + num(s[2], 0) + " t" +
        (s[1] === 0 ? " (idle this season)" : "") + (s[3] ? ", existing" : ", new");
      drawn[s[0]] = true;
      L.circleMarker(latlng(s[0]), {pane: "cc-sites", radius: 6 + 2 * Math.min(s[1], 8),
                                    weight: 2, color: "#0d47a1", fillColor: "#42a5f5",
                                    fillOpacity: 0.35, className: "cc-store"})
        .bindTooltip("cold store " + esc(SITE[s[0]][1]) + ": " + lines)
        .bindPopup(function () { return sitePopup(ly, s[0], lines, visits); }, {maxWidth: 560})
        .addTo(group);
    });
    ly.pickups.forEach(function (p) { // [site, existing]
      var lines = p[1] ? "existing" : "new";
      drawn[p[0]] = true;
      L.marker(latlng(p[0]), {icon: L.divIcon({className: "cc-pickup", iconSize: [12, 12]})})
        .bindTooltip("pickup point " + esc(SITE[p[0]][1]) + " (" + lines + ")")
        .bindPopup(function () { return sitePopup(ly, p[0], lines, visits); }, {maxWidth: 560})
        .addTo(group);
    });
    Object.keys(visits).forEach(function (i) { // stops at sites not drawn above
      if (drawn[i]) { return; }
      L.circleMarker(latlng(+i), {pane: "cc-sites", radius: 3, weight: 1, color: "#424242",
                                  fillOpacity: 0.8, className: "cc-stop"})
        .bindPopup(function () { return sitePopup(ly, +i, "", visits); }, {maxWidth: 560})
        .addTo(group);
    });
  }

  D.layers.forEach(function (ly) {
    var group = L.layerGroup(), built = false;
    group.on("add", function () {
      if (!built) { built = true; build(ly, group); }
    });
    overlays[esc(ly.name)] = group;
    if (ly.show) { group.addTo(map); }
  });
  L.control.layers(base, overlays, {collapsed: small, position: "topright"}).addTo(map);

  // ---- the key figures and the legend ------------------------------------------------
  var P = D.panel;
  var Panel = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function () {
      var div = L.DomUtil.create("div", "cc-panel");
      var h = "<details" + (small ? "" : " open") + "><summary><b>" + esc(D.instance) +
        "</b>: key figures</summary>";
      if (P.year.length) {
        h += "<div class=\"cc-h\">A year in money</div>" +
          table(["", "baseline", "plan", "change"], P.year.map(function (r) {
            return r.map(esc);
          }));
        if (P.summary) { h += "<p class=\"cc-summary\">" + esc(P.summary) + "</p>"; }
      }
      if (P.rows.length) {
        h += "<div class=\"cc-h\">Per scenario (a day)</div>" +
          table(P.head.map(esc), P.rows.map(function (r) { return r.map(esc); }));
      }
      div.innerHTML = h + "</details>";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    }
  });
  var panel = new Panel().addTo(map);
  if (D.bounds) { // the sites beside the open panel rather than under it
    var pw = panel.getContainer().offsetWidth, mw = map.getSize().x;
    if (pw && mw > 2.2 * pw) { map.fitBounds(D.bounds, {paddingTopLeft: [pw + 24, 16],
                                                        paddingBottomRight: [16, 16]}); }
  }

  var Legend = L.Control.extend({
    options: {position: "bottomright"},
    onAdd: function () {
      var div = L.DomUtil.create("div", "cc-legend");
      function line(colour, weight, dash, label) {
        return "<div><svg width=\"24\" height=\"8\"><line x1=\"0\" y1=\"4\" x2=\"24\" y2=\"4\" " +
          "stroke=\"" + colour + "\" stroke-width=\"" + weight + "\"" +
          (dash ? " stroke-dasharray=\"" + dash + "\"" : "") + "/></svg> " + label + "</div>";
      }
      var h = "<details" + (small ? "" : " open") + "><summary><b>Legend</b></summary>" +
        "<div class=\"cc-h\">routes by vehicle type (dashed: today's baseline)</div>";
      D.types.forEach(function (t) { h += line(t[1], 4, "", esc(t[0])); });
      h += "<div class=\"cc-h\">sites</div>" +
        "<div><span class=\"cc-dot\" style=\"background:#2e7d32\"></span> village covered " +
        "(&le; " + num(D.radius, 0) + " min to a pickup point) " +
        "<span class=\"cc-dot\" style=\"background:#c62828\"></span> not covered</div>" +
        "<div><span class=\"cc-dot cc-dot-store\"></span> cold store (size: modules) " +
        "<span class=\"cc-pickup cc-pickup-key\"></span> pickup point</div>" +
        "<div class=\"cc-h\">roads</div>";
      D.roads.forEach(function (r) { h += line(r[1], r[2], r[3], esc(r[0])); });
      h += line("#111111", 4, "1 5", "closed in the scenario");
      div.innerHTML = h + "</details>";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    }
  });
  new Legend().addTo(map);
}());
