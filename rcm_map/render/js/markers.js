/*
 * rcm_map: service markers, popups, legend, search point and boundaries.
 *
 * Inlined once into the map page by rcm_map/mapping.py; data arrives as ONE JSON
 * payload (rcm_map.safety.json_for_script). Registry text is only ever written
 * with textContent / setAttribute / Leaflet options, never parsed as markup, so
 * a name holding a tag or a template literal shows literally and runs nothing.
 * Links are re-checked here (web, tel and mailto schemes only) even though
 * Python already validated them.
 *
 * Keep this file free of the two-character sequences that open a Jinja tag
 * (a brace followed by a brace, percent sign or hash): folium renders pages
 * through Jinja, and tests/unit/test_mapping.py checks it.
 */
(function (global) {
  "use strict";

  var LINK_SCHEMES = { "http:": true, "https:": true, "tel:": true, "mailto:": true };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null && text !== "") node.textContent = String(text);
    return node;
  }

  function escapeHtml(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function checkedHref(href) {
    if (typeof href !== "string" || !href) return "";
    try {
      var url = new URL(href);
      return LINK_SCHEMES[url.protocol] ? url.href : "";
    } catch (err) {
      return "";
    }
  }

  function link(text, href, external) {
    var safe = checkedHref(href);
    if (!safe) return el("span", "", text);
    var a = el("a", "", text);
    a.setAttribute("href", safe);
    if (external) {
      a.setAttribute("target", "_blank");
      a.setAttribute("rel", "noopener noreferrer");
    }
    return a;
  }

  function row(parent, label, content) {
    if (content === undefined || content === null || content === "") return;
    var line = el("div", "rcm-row");
    line.appendChild(el("span", "rcm-label", label + ": "));
    if (typeof content === "string") line.appendChild(el("span", "rcm-value", content));
    else line.appendChild(content);
    parent.appendChild(line);
  }

  function typeInfo(cfg, code) {
    return cfg.types[code] || cfg.types._other;
  }

  function buildPopup(s, cfg) {
    var L_ = cfg.labels;
    var box = el("div", "rcm-popup");
    box.setAttribute("data-rcm-id", s.i);
    box.appendChild(el("div", "rcm-name", s.n));
    if (s.o) box.appendChild(el("div", "rcm-org", s.o));
    if (s.q === "city" || s.q === "confidential") {
      box.appendChild(el("div", "rcm-precision rcm-precision-" + s.q, L_["precision_" + s.q]));
    }
    var kinds = el("div", "rcm-services");
    (s.t || []).forEach(function (code) {
      var info = typeInfo(cfg, code);
      var chip = el("span", "rcm-chip", cfg.types[code] ? info.label : code);
      chip.style.borderColor = info.color;
      kinds.appendChild(chip);
    });
    box.appendChild(kinds);
    row(box, L_.distance, s.d);
    row(box, L_.ages, s.a);
    row(box, L_.address, s.ad);
    if (s.p && s.p.length) {
      var phones = el("span", "rcm-value");
      s.p.forEach(function (pair, k) {
        if (k) phones.appendChild(document.createTextNode(", "));
        phones.appendChild(link(pair[0], pair[1], false));
      });
      row(box, L_.phone, phones);
    }
    if (s.e) row(box, L_.email, link(s.e[0], s.e[1], false));
    if (s.w) row(box, L_.website, link(s.w, s.w, true));
    row(box, L_.hours, s.h);
    row(box, L_.referral, s.r);
    row(box, L_.eligibility, s.g);
    row(box, L_.verification, s.v);
    return box;
  }

  function buildIcon(s, cfg, selected) {
    var info = typeInfo(cfg, (s.t || [])[0]);
    var dot = el("div", "rcm-marker rcm-precision-" + (s.q || "address"), info.glyph);
    dot.style.background = info.color;
    dot.style.color = info.text;
    dot.setAttribute("data-rcm-id", s.i);
    if (selected) dot.className += " rcm-selected";
    return L.divIcon({
      className: "rcm-icon",
      html: dot,
      iconSize: [30, 30],
      iconAnchor: [15, 15],
      popupAnchor: [0, -12]
    });
  }

  // Neighbouring countries' land, under everything: with no tiles the background
  // is water, so without this Belize or Cuba would look like sea.
  function addLand(map, cfg) {
    if (!cfg.land || cfg.tiles) return null;
    var layer = L.geoJSON(cfg.land, {
      style: function () {
        return { color: "#b5b0a5", weight: 0.8, fillColor: "#ebe7de", fillOpacity: 1 };
      },
      interactive: false
    });
    layer.addTo(map);
    return layer;
  }

  function addBoundaries(map, cfg) {
    if (!cfg.boundaries) return null;
    var layer = L.geoJSON(cfg.boundaries, {
      style: function () {
        return cfg.tiles
          ? { color: "#555555", weight: 1, fill: false, interactive: false }
          : { color: "#8c8c8c", weight: 1, fillColor: "#f4f1ea", fillOpacity: 1 };
      },
      onEachFeature: function (feature, lyr) {
        var p = feature.properties || {};
        lyr.bindTooltip(el("span", "", p.name || p.code), { sticky: true });
      }
    });
    layer.addTo(map);
    return layer;
  }

  // Place names (cfg.places: [name, lat, lon, minZoom], biggest first). On every
  // move, a label shows when the zoom allows and it does not overlap a bigger
  // place's label already shown.
  function addPlaceLabels(map, cfg) {
    // The searched place is named beside the search point (addSearch): not twice.
    var searched = cfg.search && cfg.search.name;
    var places = (cfg.places || []).filter(function (p) { return p[0] !== searched; });
    if (!places.length) return null;
    var pane = map.createPane("rcmPlaces");
    pane.style.zIndex = 450;
    pane.style.pointerEvents = "none";
    var layer = L.layerGroup().addTo(map);
    var items = places.map(function (p) {
      var big = p[3] <= 7;
      var node = el("span", "rcm-place" + (big ? " rcm-place-city" : ""), p[0]);
      return {
        p: p,
        halfW: p[0].length * (big ? 4 : 3.5) + 4,
        marker: L.marker([p[1], p[2]], {
          icon: L.divIcon({ className: "rcm-place-icon", html: node, iconSize: null }),
          pane: "rcmPlaces", interactive: false, keyboard: false
        })
      };
    });
    function overlaps(a, b) {
      return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
    }
    function update() {
      var zoom = map.getZoom();
      var size = map.getSize();
      var placed = [];
      layer.clearLayers();
      items.forEach(function (item) {
        if (zoom < item.p[3]) return;
        var pt = map.latLngToContainerPoint([item.p[1], item.p[2]]);
        if (pt.x < -100 || pt.y < -20 || pt.x > size.x + 100 || pt.y > size.y + 20) return;
        var box = [pt.x - item.halfW, pt.y + 10, pt.x + item.halfW, pt.y + 28];
        for (var k = 0; k < placed.length; k++) if (overlaps(box, placed[k])) return;
        placed.push(box);
        layer.addLayer(item.marker);
      });
      map.getContainer().setAttribute("data-rcm-places", String(placed.length));
    }
    map.on("zoomend moveend resize", update);
    update();
    return layer;
  }

  function addSearch(map, cfg) {
    var s = cfg.search;
    if (!s) return;
    if (s.radius_m) {
      L.circle([s.lat, s.lon], {
        radius: s.radius_m, color: "#333333", weight: 2, dashArray: "6 6",
        fill: true, fillOpacity: 0.04, interactive: false
      }).addTo(map);
    }
    // The searched place's name stays beside the point at every zoom (as text).
    L.circleMarker([s.lat, s.lon], {
      radius: 7, color: "#ffffff", weight: 3, fillColor: "#d00000", fillOpacity: 1
    }).bindTooltip(el("span", "", s.name || cfg.labels.search_point), s.name ? {
      permanent: true, direction: "right", offset: [8, 0], className: "rcm-search-name"
    } : {}).addTo(map);
  }

  function addLegend(map, cfg) {
    if (!cfg.legend || !cfg.legend.length) return null;
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      var box = el("details", "rcm-legend leaflet-control");
      if (!cfg.legend_collapsed) box.setAttribute("open", "");
      box.appendChild(el("summary", "", cfg.labels.legend));
      cfg.legend.forEach(function (code) {
        var info = typeInfo(cfg, code);
        var item = el("div", "rcm-legend-item");
        var swatch = el("span", "rcm-swatch", info.glyph);
        swatch.style.background = info.color;
        swatch.style.color = info.text;
        item.appendChild(swatch);
        item.appendChild(el("span", "", info.label));
        box.appendChild(item);
      });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    return control;
  }

  function addMarkers(map, parent, data, cfg) {
    var useCluster = data.length >= cfg.cluster_min && typeof L.markerClusterGroup === "function";
    var group = useCluster
      ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 })
      : L.featureGroup();
    var byId = Object.create(null);
    data.forEach(function (s) {
      var marker = L.marker([s.y, s.x], {
        icon: buildIcon(s, cfg, s.i === cfg.selected),
        title: s.n,
        alt: s.n,
        keyboard: true,
        riseOnHover: true
      });
      marker.bindPopup(function () { return buildPopup(s, cfg); }, { maxWidth: 320 });
      // The name as escaped text: streamlit-folium reports it on a click (it reads
      // the tooltip as HTML), so the list can select the clicked service.
      marker.bindTooltip(escapeHtml(s.n), { direction: "top", offset: [0, -14] });
      byId[s.i] = marker;
      group.addLayer(marker);
    });
    group.addTo(parent);
    return { map: map, group: group, byId: byId, clustered: useCluster };
  }

  function fit(map, cfg) {
    // No animation: on a map already shown (the services swapped after a filter
    // change) an animated fit would still be running when a selection zooms in.
    if (cfg.bounds) {
      map.fitBounds(cfg.bounds, { padding: [24, 24], maxZoom: cfg.max_fit_zoom, animate: false });
    }
  }

  function select(map, layers, id) {
    var marker = id ? layers.byId[id] : null;
    if (!marker) return;
    var open = function () { marker.openPopup(); };
    if (layers.clustered) layers.group.zoomToShowLayer(marker, open);
    else {
      // No animation: a popup opened mid-animation is placed at the old view.
      map.setView(marker.getLatLng(), Math.max(map.getZoom(), 12), { animate: false });
      open();
    }
  }

  // The map itself: what stays while the filters change (the search point and
  // radius, outlines, land, place names). payload: {config, boundaries, land}.
  function rcmBase(map, payload) {
    var cfg = payload.config;
    map.getContainer().classList.add("rcm-map");
    if (!cfg.tiles) map.getContainer().classList.add("rcm-offline");
    if (map.attributionControl && cfg.labels.map_credit) {
      // addAttribution writes HTML: the credit goes in escaped.
      map.attributionControl.addAttribution(escapeHtml(cfg.labels.map_credit));
    }
    // Without tiles nothing sets a max zoom, and markercluster refuses to work.
    if (!isFinite(map.getMaxZoom())) map.setMaxZoom(cfg.max_zoom);
    if (!isFinite(map.getMinZoom()) || map.getMinZoom() < 2) map.setMinZoom(2);
    addLand(map, cfg);
    addBoundaries(map, cfg);
    addPlaceLabels(map, cfg);
    addSearch(map, cfg);
    if (cfg.bounds) map.fitBounds(cfg.bounds, { padding: [24, 24], maxZoom: cfg.max_fit_zoom });
  }

  // The services of one search, drawn into `parent` (the map, or a layer group the
  // app swaps on a filter change without reloading the map); the legend goes
  // with them. payload: {config, services}.
  function rcmServices(map, parent, payload) {
    var cfg = payload.config;
    var data = payload.services;
    // On the map before the markers go in: zooming to a selected marker in a
    // cluster needs the cluster group on the map.
    if (parent !== map && !map.hasLayer(parent)) parent.addTo(map);
    var layers = addMarkers(map, parent, data, cfg);
    var legend = addLegend(map, cfg);
    if (legend && parent !== map) {
      parent.on("remove", function () { map.removeControl(legend); });
    }
    fit(map, cfg);
    if (parent === map) select(map, layers, cfg.selected);
    // On a map already shown, the cluster group is still settling after the fit
    // (its own re-clustering on zoomend): zoom to the selected marker once it has.
    else if (cfg.selected) setTimeout(function () { select(map, layers, cfg.selected); }, 0);
    // For tests and the UI: how many services were drawn, and a handle on them.
    map.getContainer().setAttribute("data-rcm-markers", String(data.length));
    global.rcmLayers = layers;
    return layers;
  }

  // The whole map in one call (a standalone page).
  function rcmRender(map, payload) {
    rcmBase(map, payload);
    return rcmServices(map, map, payload);
  }

  global.rcmBase = rcmBase;
  global.rcmServices = rcmServices;
  global.rcmRender = rcmRender;
})(window);
