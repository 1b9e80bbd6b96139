/* Exposure: how singled-out people would be by a tracker, in aggregate and in plain words. */
(function () {
  "use strict";
  var select = SC.$("window");
  var windowDays = SC.param("window") === "7" ? 7 : 1;
  if (select) select.value = String(windowDays);
  var signal = SC.signalChoice(draw);

  function draw(day) {
    return SC.load("exposure", { day: day, window: windowDays, signal: signal() }).then(function (d) {
      SC.showSignal(d);
      var box = SC.$("sentences");
      box.textContent = "";
      d.sentences.forEach(function (s) {
        var p = document.createElement("p");
        p.textContent = s;
        box.appendChild(p);
      });
      var u = d.unicity;
      // the sampled unicity is not published where its noise would drown it (docs/privacy.md)
      var unicity = SC.$("chart-unicity");
      unicity.classList.toggle("chart", u.length > 0);
      unicity.parentNode.hidden = u.length === 0;
      return Promise.all([
        u.length === 0 ? null : SC.plot("chart-unicity", [{
          type: "scatter", mode: "lines+markers", name: "unique",
          x: u.map(function (p) { return p.points; }),
          y: u.map(function (p) { return p.unique_share; }),
          error_y: {
            type: "data", symmetric: false,
            array: u.map(function (p) { return p.ci_high - p.unique_share; }),
            arrayminus: u.map(function (p) { return p.unique_share - p.ci_low; }),
          },
          line: { color: SC.palette[3], width: 2 },
          hovertemplate: "%{x} points: %{y:.1%} unique<extra></extra>",
        }], {
          xaxis: { title: { text: "points known (channel, hour)" }, dtick: 1, range: [0.5, 8.5] },
          yaxis: { tickformat: ".0%", range: [0, 1] },
        }),
        SC.plot("chart-census", [{
          type: "bar", orientation: "h",
          y: d.census.map(function (c) { return SC.esc(c.label); }),
          x: d.census.map(function (c) { return c.unique_share; }),
          marker: { color: SC.palette[4] },
          hovertemplate: "%{x:.1%} unique by %{y}<extra></extra>",
        }], { xaxis: { tickformat: ".0%", range: [0, 1] }, margin: { l: 230, r: 20, t: 10, b: 40 } }),
      ]);
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
