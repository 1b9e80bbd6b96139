/* Overview: the community curve of a day, headline figures, top channels and games. */
(function () {
  "use strict";
  var f = SC.fmt;

  SC.page(function (day) {
    return SC.load("overview", { day: day }).then(function (d) {
      var t = d.totals;
      if (!t.day_complete) {
        SC.notice("Partial day: it was loaded before it was over, so its figures cover only part of it.");
      }
      SC.tiles("tiles", [
        ["peak viewers" + (t.peak_viewers_at ? " (" + f.time(t.peak_viewers_at) + " UTC)" : ""), f.int(t.peak_viewers)],
        ["average viewers", f.int(t.avg_viewers)],
        ["viewer-hours", f.int(t.viewer_hours)],
        ["channels live in the day", f.int(t.channels_live)],
        ["peak live channels", f.int(t.peak_live_channels)],
        ["viewers per live channel (Σ viewers ÷ Σ live channels)", f.num(t.viewers_per_live_channel, 1)],
      ].concat(t.peak_chatters.map(function (p) {
        return ["peak chatters: " + p.label, f.int(p.value)];
      })).concat([
        ["snapshots", f.int(t.snapshots) + " / " + f.int(t.snapshots_expected)],
      ]));
      var x = SC.plotTimes(d.curve.ts);
      var timeAxis = { type: "date", tickformat: "%H:%M", hoverformat: "%H:%M UTC" };
      var drawn = [
        SC.plot("chart-audience", [
          { x: x, y: d.curve.viewers, name: "viewers", type: "scatter", mode: "lines", line: { color: SC.palette[0], width: 2 } },
        ].concat(d.curve.chatters.map(function (line, i) {
          return { x: x, y: line.values, name: SC.esc(line.label), type: "scatter", mode: "lines", line: { color: SC.palette[1 + i], width: 2, dash: line.signal === "chat_list" ? "dot" : "solid" } };
        })), { xaxis: timeAxis, yaxis: { rangemode: "tozero" }, hovermode: "x unified" }),
        SC.plot("chart-ratio", [
          { x: x, y: d.curve.live_channels, name: "live channels", type: "scatter", mode: "lines", line: { color: SC.palette[2], width: 2 } },
          { x: x, y: d.curve.viewers_per_live_channel, name: "viewers per live channel", type: "scatter", mode: "lines", yaxis: "y2", line: { color: SC.palette[0], width: 2 } },
        ], {
          xaxis: timeAxis, hovermode: "x unified",
          yaxis: { rangemode: "tozero", title: { text: "live channels" } },
          yaxis2: { overlaying: "y", side: "right", showgrid: false, tickmode: "auto", rangemode: "tozero", title: { text: "viewers per channel" } },
          margin: { l: 55, r: 60, t: 10, b: 40 },
        }),
      ];
      var games = d.top_games.slice().reverse();
      drawn.push(SC.plot("chart-games", [{
        type: "bar", orientation: "h",
        y: games.map(function (g) { return SC.esc(g.game_name); }),
        x: games.map(function (g) { return g.viewer_hours; }),
        marker: { color: games.map(function (g) { return SC.colorFor(g.game_name); }) },
        customdata: games.map(function (g) { return [f.pct(g.share), f.int(g.peak_viewers), g.peak_live_channels]; }),
        hovertemplate: "<b>%{y}</b><br>%{x:,.0f} viewer-hours (%{customdata[0]})<br>peak %{customdata[1]} viewers, %{customdata[2]} channels<extra></extra>",
      }], { margin: { l: 150, r: 20, t: 10, b: 40 }, xaxis: { title: { text: "viewer-hours" } } }));
      SC.table("table-channels", [
        { label: "channel", value: function (c) { return SC.link(SC.channelUrl(c.channel_login), c.channel_name); } },
        { label: "main game", value: function (c) { return c.main_game; } },
        { label: "hours live", num: true, value: function (c) { return f.num(c.airtime_hours, 1); } },
        { label: "peak", num: true, value: function (c) { return f.int(c.peak_viewers); } },
        { label: "viewer-hours", num: true, value: function (c) { return f.int(c.viewer_hours); } },
        { label: "chatters", num: true, value: function (c) { return f.int(c.unique_chatters); } },
        { label: "counted as", value: function (c) { return c.signal ? SC.signalLabel(c.signal) : "–"; } },
      ], d.top_channels);
      return Promise.all(drawn);
    });
  });
})();
