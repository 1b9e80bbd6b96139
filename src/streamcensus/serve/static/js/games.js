/* Games: what the community plays, when, and who streams it (`?game=<id>`: one game). */
(function () {
  "use strict";
  var f = SC.fmt;
  var WINDOWS = SC.cfg.rules.rankingWindows || [1, 7, 30];
  var given = Number(SC.param("window"));
  var windowDays = WINDOWS.indexOf(given) < 0 ? 7 : given;
  var signal = SC.signalChoice(draw);
  var game = SC.param("game");
  if (game !== null && !new RegExp("^(?:" + SC.cfg.rules.game + ")$").test(game)) {
    SC.notice("invalid game " + JSON.stringify(game) + ": " + SC.cfg.rules.gameText);
    game = null;
  }
  var select = SC.$("window");
  if (select) select.value = String(windowDays);

  function hours(n) { return f.num(n, 1); }

  function drawList(day) {
    return SC.load("games", { day: day, window: windowDays, signal: signal() }).then(function (d) {
      SC.showSignal({ signal: d.signal, signal_label: d.signal_label, signals: [d.signal] });
      SC.coverage(d.period, "Viewer figures");
      var top = d.games.slice(0, 15).reverse();
      var drawn = SC.plot("chart-games", [{
        type: "bar", orientation: "h",
        y: top.map(function (g) { return SC.esc(g.game.name); }),
        x: top.map(function (g) { return g.game.hours_watched.current; }),
        customdata: top.map(function (g) { return g.share_of_hours; }),
        marker: { color: top.map(function (g) { return SC.colorFor(g.game.name); }) },
        hovertemplate: "%{y}<br>%{x:,.1f} hours watched (%{customdata:.1%})<extra></extra>",
      }], { margin: { l: 160, r: 20, t: 10, b: 40 }, yaxis: { type: "category" },
        xaxis: { title: { text: "hours watched" } } });
      SC.table("table-games", [
        { label: "#", num: true, value: function (g) { return String(g.game.rank); } },
        { label: "game", value: function (g) { return SC.link(SC.url("games", { game: g.game.id, window: windowDays }), g.game.name); } },
        { label: "hours watched", num: true, value: function (g) { return SC.trend(g.game.hours_watched, hours); } },
        { label: "share", num: true, value: function (g) { return f.pct(g.share_of_hours); } },
        { label: "channels", num: true, value: function (g) { return f.int(g.channels); } },
        { label: "top channel", value: function (g) { return g.top_channel ? SC.link(SC.channelUrl(g.top_channel), g.top_channel) : "–"; } },
        { label: "peak viewers", num: true, value: function (g) { return SC.trend(g.game.peak_viewers, f.int); } },
        { label: "average viewers", num: true, value: function (g) { return SC.trend(g.game.avg_viewers, hours); } },
        { label: "airtime (channel-hours)", num: true, value: function (g) { return SC.trend(g.game.airtime_hours, hours); } },
        { label: "chat size (people)", num: true, value: function (g) { return SC.trend(g.game.chatters, f.int); } },
      ], d.games, "No game was streamed in this period.");
      return drawn;
    });
  }

  function drawGame(day) {
    return SC.load("games/" + game, { day: day, window: windowDays, signal: signal() }).then(function (d) {
      SC.showSignal({ signal: d.signal, signal_label: d.signal_label, signals: [d.signal] });
      SC.coverage(d.period, "Viewer figures");
      SC.$("page-title").textContent = d.name;
      document.title = d.name + " · streamcensus";
      var g = d.figures;
      SC.tiles("game-tiles", g ? [
        ["hours watched", hours(g.hours_watched.current)],
        ["peak viewers", f.int(g.peak_viewers.current)],
        ["average viewers", hours(g.avg_viewers.current)],
        ["airtime (channel-hours)", hours(g.airtime_hours.current)],
        ["chat size (" + d.signal_label + ")", f.int(g.chatters.current)],
        ["rank by hours watched", g.rank ? "#" + g.rank : "–"],
      ] : [["not streamed in this period", "–"]]);
      var days = d.days.map(function (x) { return x.day; });
      var charts = [SC.plot("chart-game-days", [
        { type: "bar", name: "hours watched", x: days, y: d.days.map(function (x) { return x.hours_watched; }),
          marker: { color: SC.palette[0] } },
        { type: "scatter", mode: "lines+markers", name: "channels", x: days, yaxis: "y2",
          y: d.days.map(function (x) { return x.channels; }), line: { color: SC.palette[1] } },
      ], { xaxis: { type: "category" }, yaxis: { title: { text: "hours watched" } },
        yaxis2: { title: { text: "channels" }, overlaying: "y", side: "right", rangemode: "tozero", tickformat: ",d" } })];
      charts.push(SC.plot("chart-game-hours", [{
        type: "heatmap", x: d.when.hours, y: d.when.weekdays, z: d.when.viewer_hours,
        colorscale: [[0, "#f3effd"], [0.5, "#9a7cf0"], [1, "#2d1a7a"]], zmin: 0, xgap: 1, ygap: 1,
        hovertemplate: "%{y} %{x}:00–%{x}:59 UTC<br>%{z:,.1f} viewer-hours<extra></extra>",
        colorbar: { thickness: 12 },
      }], { xaxis: { dtick: 2, title: { text: "hour (UTC)" } }, yaxis: { autorange: "reversed", type: "category" },
        margin: { l: 50, r: 20, t: 10, b: 40 } }));
      SC.table("table-game-channels", [
        { label: "channel", value: function (c) { return SC.link(SC.channelUrl(c.channel_login), c.channel_name); } },
        { label: "hours watched", num: true, value: function (c) { return hours(c.hours_watched); } },
        { label: "share of the game's hours", num: true, value: function (c) { return f.pct(c.share_of_hours); } },
        { label: "airtime (hours)", num: true, value: function (c) { return hours(c.airtime_hours); } },
        { label: "peak viewers", num: true, value: function (c) { return f.int(c.peak_viewers); } },
      ], d.channels, "No channel streamed it in this period.");
      return Promise.all(charts);
    });
  }

  function draw(day) { return game ? drawGame(day) : drawList(day); }

  // the view not shown is taken out of the page, its charts with it
  if (game) {
    SC.$("games-list").remove();
    SC.$("game-detail").hidden = false;
    var back = SC.$("all-games");
    back.hidden = false;
    back.addEventListener("click", function (e) {
      e.preventDefault();
      window.location.href = SC.url("games", { window: windowDays });
    });
  } else {
    SC.$("game-detail").remove();
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
