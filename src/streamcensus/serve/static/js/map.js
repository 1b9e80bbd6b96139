/* Community map: channels placed by shared chatters; zoom, hover, click to a channel. */
(function () {
  "use strict";
  var f = SC.fmt;
  var select = SC.$("window");
  var windowDays = SC.param("window") === "1" ? 1 : 7;
  if (select) select.value = String(windowDays);
  var signal = SC.signalChoice(draw);

  function draw(day) {
    return SC.load("map", { day: day, window: windowDays, signal: signal() }).then(function (d) {
      SC.showSignal(d);
      var nodes = d.nodes;
      var ex = [], ey = [];
      d.edges.forEach(function (e) {
        ex.push(nodes[e.source].x, nodes[e.target].x, null);
        ey.push(nodes[e.source].y, nodes[e.target].y, null);
      });
      var biggest = Math.max.apply(null, nodes.map(function (n) { return n.chatters; }).concat([1]));
      var neighbours = nodes.map(function () { return []; });
      d.edges.forEach(function (e) {
        neighbours[e.source].push([e.jaccard, nodes[e.target].channel_name]);
        neighbours[e.target].push([e.jaccard, nodes[e.source].channel_name]);
      });
      var closest = neighbours.map(function (list) {
        return SC.esc(list.sort(function (a, b) { return b[0] - a[0]; }).slice(0, 3).map(function (p) { return p[1]; }).join(", "));
      });
      SC.$("summary").textContent = nodes.length + " channels, " + d.edges.length + " of " +
        f.int(d.pairs_total) + " published pairs (" + (d.window_days === 1 ? "the day" : "7 days ending on " + d.day) + ")" +
        (d.days_covered !== null && d.days_covered < d.window_days ? " · partial: only " + d.days_covered + " of " + d.window_days + " days have data" : "");
      var traces = [
        { type: "scatter", mode: "lines", x: ex, y: ey, hoverinfo: "skip", line: { width: 0.6, color: "rgba(90,80,130,0.28)" }, showlegend: false },
        {
          type: "scatter", mode: "markers+text", name: "channels",
          x: nodes.map(function (n) { return n.x; }),
          y: nodes.map(function (n) { return n.y; }),
          text: nodes.map(function (n, i) { return i < 25 ? SC.esc(n.channel_name) : ""; }),
          textposition: "top center", textfont: { size: 10 },
          customdata: nodes.map(function (n, i) { return [n.channel_login, SC.esc(n.channel_name), f.int(n.chatters), SC.esc(n.main_game), closest[i]]; }),
          hovertemplate: "<b>%{customdata[1]}</b><br>%{customdata[2]} " + SC.esc(d.signal_label) + "<br>%{customdata[3]}<br>closest: %{customdata[4]}<extra></extra>",
          marker: {
            size: nodes.map(function (n) { return 8 + 34 * Math.sqrt(n.chatters / biggest); }),
            color: nodes.map(function (n) { return SC.colorFor(n.main_game); }),
            line: { width: 1, color: "#fff" }, opacity: 0.9,
          },
          showlegend: false,
        },
      ];
      var hidden = { visible: false, zeroline: false, showgrid: false };
      return SC.plot("chart-map", traces, {
        xaxis: Object.assign({ range: [-1.15, 1.15] }, hidden),
        yaxis: Object.assign({ range: [-1.15, 1.15], scaleanchor: "x" }, hidden),
        dragmode: "pan", hovermode: "closest", margin: { l: 10, r: 10, t: 10, b: 10 },
      }, { scrollZoom: true }).then(function (el) {
        if (!el.dataset.bound) {
          el.dataset.bound = "1";
          el.on("plotly_click", function (ev) {
            var p = ev.points && ev.points[0];
            if (p && p.customdata) {
              el.dataset.clicked = p.customdata[0];
              window.location.href = SC.channelUrl(p.customdata[0]);
            }
          });
        }
        var pairs = d.edges.slice().sort(function (a, b) { return b.jaccard - a.jaccard; }).slice(0, 15);
        SC.table("table-pairs", [
          { label: "channel", value: function (e) { return SC.link(SC.channelUrl(nodes[e.source].channel_login), nodes[e.source].channel_name); } },
          { label: "channel", value: function (e) { return SC.link(SC.channelUrl(nodes[e.target].channel_login), nodes[e.target].channel_name); } },
          { label: "shared (" + d.signal_label + ")", num: true, value: function (e) { return f.int(e.shared_chatters); } },
          { label: "Jaccard", num: true, value: function (e) { return f.num(e.jaccard, 3); } },
        ], pairs, "No pair of channels shares at least k chatters in this period.");
      });
    });
  }

  if (select) {
    select.addEventListener("change", function () {
      windowDays = Number(select.value);
      SC.setParam("window", String(windowDays));
      if (SC.day()) draw(SC.day()).catch(SC.fail);
    });
  }
  SC.page(draw);
})();
