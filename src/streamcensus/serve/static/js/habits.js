/* Audience habits: the hour-of-week heatmap and the distributions of viewer_habits. */
(function () {
  "use strict";
  var f = SC.fmt;
  var signal = SC.signalChoice(draw);

  function draw(day) {
    return SC.load("habits", { day: day, signal: signal() }).then(function (d) {
      SC.showSignal(d);
      var h = d.heatmap;
      var rows = h.weekdays.map(function (w, i) { return h.dates[i] ? w + " " + h.dates[i].slice(5) : w; });
      var hours = [];
      for (var i = 0; i < 24; i += 1) hours.push(i);
      var drawn = [SC.plot("chart-heatmap", [{
        type: "heatmap", x: hours, y: rows, z: h.share, customdata: h.people,
        colorscale: [[0, "#f3effd"], [0.5, "#9a7cf0"], [1, "#2d1a7a"]], zmin: 0,
        hovertemplate: "%{y} %{x}:00–%{x}:59 UTC<br>%{z:.1%} of the day's people<br>%{customdata:,} " + SC.esc(d.signal_label) + "<extra></extra>",
        colorbar: { tickformat: ".0%", thickness: 12 }, xgap: 1, ygap: 1,
      }], {
        xaxis: { dtick: 2, title: { text: "hour (UTC)" } },
        yaxis: { autorange: "reversed", type: "category" },
        margin: { l: 80, r: 20, t: 10, b: 40 },
      })];
      var box = SC.$("distributions");
      box.textContent = "";
      if (!d.distributions.length) {
        var p = document.createElement("p");
        p.className = "muted";
        p.textContent = "No distribution is published for this day (fewer than k people).";
        box.appendChild(p);
      }
      var charts = d.distributions.map(function (dist) {
        var fig = document.createElement("figure");
        fig.className = "card";
        var title = document.createElement("h2");
        title.textContent = dist.title;
        var chart = document.createElement("div");
        chart.className = "chart";
        chart.id = "chart-" + dist.metric;
        fig.appendChild(title);
        fig.appendChild(chart);
        box.appendChild(fig);
        return chart.id;
      });
      d.distributions.forEach(function (dist, i) {
        drawn.push(SC.plot(charts[i], [{
          type: "bar", x: dist.buckets.map(function (b) { return SC.esc(b.label); }),
          y: dist.buckets.map(function (b) { return b.share; }),
          customdata: dist.buckets.map(function (b) { return f.int(b.value); }),
          marker: { color: SC.palette[0] },
          hovertemplate: "%{x}: %{y:.1%} (%{customdata} " + SC.esc(dist.unit) + ")<extra></extra>",
        }], { xaxis: { type: "category", tickangle: 0 }, yaxis: { tickformat: ".0%" } }));
      });
      return Promise.all(drawn);
    });
  }
  SC.page(draw);
})();
