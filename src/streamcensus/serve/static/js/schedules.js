/* Schedules: who was live when on a day, for the top channels by viewer-hours. */
(function () {
  "use strict";
  var f = SC.fmt;
  var HOUR = 3600 * 1000;

  function ms(iso) { return Date.parse(iso); }

  SC.page(function (day) {
    return SC.load("schedules", { day: day }).then(function (d) {
      var start = ms(day + "T00:00:00Z");
      var end = start + 24 * HOUR;
      var step = (SC.cfg.intervalMinutes || 5) * 60 * 1000;
      var names = d.channels.map(function (c) { return SC.esc(c.channel_name); });
      var byGame = {};
      var rows = [];
      d.channels.forEach(function (c) {
        c.broadcasts.forEach(function (b) {
          var from = Math.max(ms(b.started_at), start);
          var to = Math.min(ms(b.ended_at) + step, end);
          if (to <= from) return;
          var trace = byGame[b.main_game];
          if (!trace) {
            trace = byGame[b.main_game] = {
              type: "bar", orientation: "h", name: SC.esc(b.main_game), base: [], x: [], y: [], customdata: [],
              marker: { color: SC.colorFor(b.main_game) },
              hovertemplate: "<b>%{y}</b><br>%{customdata[1]}–%{customdata[2]} UTC<br>peak %{customdata[3]} viewers<br>%{customdata[4]}<extra></extra>",
            };
          }
          trace.base.push(SC.plotTime(new Date(from).toISOString()));
          trace.x.push(to - from);
          trace.y.push(SC.esc(c.channel_name));
          trace.customdata.push([c.channel_login, f.time(b.started_at), f.time(b.ended_at),
            f.int(b.peak_viewers), SC.esc(b.games.map(function (g) { return g.game_name + " " + g.minutes + " min"; }).join(", ")) +
            (b.complete ? "" : "<br>cut by the collection window: figures cover part of it")]);
          rows.push({ c: c, b: b });
        });
      });
      var traces = Object.keys(byGame).sort().map(function (k) { return byGame[k]; });
      SC.$("summary").textContent = f.int(d.channels_live) + " channels were live on " + day +
        "; the " + d.channels.length + " with the most viewer-hours are shown.";
      var el = SC.$("chart-schedule");
      el.style.height = Math.max(320, 26 * names.length + 90) + "px";
      return SC.plot("chart-schedule", traces, {
        barmode: "overlay",
        xaxis: { type: "date", range: [SC.plotTime(day + "T00:00:00Z"), SC.plotTime(new Date(end).toISOString())], tickformat: "%H:%M", side: "top" },
        yaxis: { type: "category", categoryorder: "array", categoryarray: names.slice().reverse(), automargin: true },
        margin: { l: 130, r: 20, t: 30, b: 40 },
        legend: { orientation: "h", y: -0.05 },
      }).then(function () {
        if (!el.dataset.bound) {
          el.dataset.bound = "1";
          el.on("plotly_click", function (ev) {
            var p = ev.points && ev.points[0];
            if (p && p.customdata) window.location.href = SC.channelUrl(p.customdata[0]);
          });
        }
        SC.table("table-broadcasts", [
          { label: "channel", value: function (r) { return SC.link(SC.channelUrl(r.c.channel_login), r.c.channel_name); } },
          { label: "start", value: function (r) { return r.b.started_at.slice(0, 16).replace("T", " "); } },
          { label: "last seen", value: function (r) { return r.b.ended_at.slice(0, 16).replace("T", " "); } },
          { label: "peak", num: true, value: function (r) { return f.int(r.b.peak_viewers); } },
          { label: "average", num: true, value: function (r) { return f.int(r.b.avg_viewers); } },
          { label: "games", value: function (r) { return r.b.games.map(function (g) { return g.game_name; }).join(", "); } },
        ], rows);
      });
    });
  });
})();
