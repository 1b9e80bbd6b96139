/* Channel: broadcasts over recent weeks, the day's curve, games, neighbours, chatters. */
(function () {
  "use strict";
  var f = SC.fmt;
  var HOUR = 3600 * 1000;
  var DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

  function dayLabel(iso) {
    var d = new Date(iso + "T00:00:00Z");
    return DAYS[d.getUTCDay()] + " " + iso.slice(5);
  }

  function weekChart(d) {
    var step = d.interval_minutes * 60 * 1000;
    var labels = [];
    for (var t = Date.parse(d.period_to + "T00:00:00Z"); t >= Date.parse(d.period_from + "T00:00:00Z"); t -= 24 * HOUR) {
      labels.push(dayLabel(new Date(t).toISOString().slice(0, 10)));
    }
    var byGame = {};
    d.broadcasts.forEach(function (b) {
      var from = Date.parse(b.started_at);
      var to = Date.parse(b.ended_at) + step;
      while (from < to) {
        var midnight = Math.floor(from / (24 * HOUR)) * 24 * HOUR;
        var pieceEnd = Math.min(to, midnight + 24 * HOUR);
        var label = dayLabel(new Date(midnight).toISOString().slice(0, 10));
        if (labels.indexOf(label) >= 0) {
          var trace = byGame[b.main_game];
          if (!trace) {
            trace = byGame[b.main_game] = {
              type: "bar", orientation: "h", name: SC.esc(b.main_game), base: [], x: [], y: [], customdata: [],
              marker: { color: SC.colorFor(b.main_game) },
              hovertemplate: "%{customdata[0]}–%{customdata[1]} UTC<br>peak %{customdata[2]} viewers, average %{customdata[3]}<br>%{customdata[4]}<extra></extra>",
            };
          }
          trace.base.push((from - midnight) / HOUR);
          trace.x.push((pieceEnd - from) / HOUR);
          trace.y.push(labels.length - 1 - labels.indexOf(label));
          trace.customdata.push([b.started_at.slice(0, 16).replace("T", " "), b.ended_at.slice(11, 16),
            f.int(b.peak_viewers), f.int(b.avg_viewers), SC.esc(b.games.map(function (g) { return g.game_name; }).join(", "))]);
        }
        from = pieceEnd;
      }
    });
    SC.$("chart-week").style.height = Math.max(260, 18 * labels.length + 90) + "px";
    return SC.plot("chart-week", Object.keys(byGame).sort().map(function (k) { return byGame[k]; }), {
      barmode: "overlay",
      xaxis: { range: [0, 24], dtick: 3, title: { text: "hour of the day (UTC)" } },
      yaxis: {
        range: [-0.5, labels.length - 0.5], tickvals: labels.map(function (l, i) { return labels.length - 1 - i; }),
        ticktext: labels, showgrid: false, zeroline: false, automargin: true,
      },
      hovermode: "closest",
      margin: { l: 80, r: 20, t: 10, b: 40 },
    });
  }

  SC.page(function (day) {
    var name = SC.channel(); /* a missing, invalid or unexported channel throws its message */
    return SC.load("channels/" + name, { day: day }).then(function (d) {
      var c = d.channel;
      document.title = c.channel_name + " · streamcensus";
      SC.$("page-title").textContent = c.channel_name;
      var today = d.days.filter(function (x) { return x.day === d.day; })[0];
      var follow = d.followers.days.filter(function (x) { return x.day === d.day; })[0];
      SC.$("summary").textContent = "twitch.tv/" + c.channel_login + " · seen live from " + c.first_day +
        " to " + c.last_day + " · " + d.broadcasts.length + " broadcasts from " + d.period_from + " to " + d.period_to +
        (today ? "" : " · not live on " + d.day);
      SC.tiles("tiles", [
        ["hours live on the day", today ? f.num(today.airtime_hours, 1) : "0"],
        ["peak viewers", today ? f.int(today.peak_viewers) : "–"],
        ["viewer-hours", today ? f.int(today.viewer_hours) : "–"],
        [(today && today.signal ? SC.signalLabel(today.signal) : "people in chat") +
          (today && !today.complete ? " (partial: " + (today.chat_snapshots_missed ? today.chat_snapshots_missed + (today.signal === "chat_activity" ? " chat windows" : " chat lists") + " missed" : "day not fully collected") + ")" : ""),
          today ? f.int(today.unique_chatters) : "–"],
        ["returning chatters", today ? f.int(today.returning_chatters) : "–"],
        ["bot share", today ? f.pct(today.bot_share) : "–"],
        ["followers", follow ? f.int(follow.followers) : "–"],
        ["followers gained: day / 7 days", follow ? f.int(follow.gained_day) + " / " + f.int(follow.gained_7d) : "–"],
      ]);
      SC.$("signals").textContent = today ? (today.has_chat_list ? "Chat list read" + (today.has_chat_activity ? " and chat joined" : "") + ": chatter figures count " + SC.signalLabel("chat_list") + "." :
        today.has_chat_activity ? "Chat list not read (no consent or moderation); chatter figures count " + SC.signalLabel("chat_activity") + "." : "Chat not read on this day.") : "";
      var x = SC.plotTimes(d.curve.ts);
      var drawn = [
        weekChart(d),
        SC.plot("chart-curve", [
          { x: x, y: d.curve.viewers, name: "viewers", type: "scatter", mode: "lines", line: { color: SC.palette[0], width: 2 }, customdata: d.curve.game.map(SC.esc), hovertemplate: "%{y:,} viewers · %{customdata}<extra></extra>" },
        ].concat(d.curve.chatters.map(function (line, i) {
          return { x: x, y: line.values, name: SC.esc(line.label), type: "scatter", mode: "lines", line: { color: SC.palette[1 + i], width: 2 } };
        })), {
          xaxis: { type: "date", tickformat: "%H:%M", hoverformat: "%H:%M UTC", range: [SC.plotTime(d.day + "T00:00:00Z"), SC.plotTime(d.day + "T23:59:59Z")] },
          yaxis: { rangemode: "tozero" }, hovermode: "x unified",
        }),
        SC.plot("chart-games", [{
          type: "bar", orientation: "h",
          y: d.games.slice(0, 10).reverse().map(function (g) { return SC.esc(g.game_name); }),
          x: d.games.slice(0, 10).reverse().map(function (g) { return g.minutes / 60; }),
          marker: { color: d.games.slice(0, 10).reverse().map(function (g) { return SC.colorFor(g.game_name); }) },
          hovertemplate: "<b>%{y}</b><br>%{x:.1f} hours<extra></extra>",
        }], { margin: { l: 150, r: 20, t: 10, b: 40 }, xaxis: { title: { text: "hours" } } }),
        SC.plot("chart-days", [
          { type: "bar", name: "people in chat", x: d.days.map(function (r) { return r.day; }), y: d.days.map(function (r) { return r.unique_chatters; }), marker: { color: SC.palette[0] } },
          { type: "bar", name: "returning chatters", x: d.days.map(function (r) { return r.day; }), y: d.days.map(function (r) { return r.returning_chatters; }), marker: { color: SC.palette[2] } },
          { type: "scatter", mode: "lines+markers", name: "bot share", yaxis: "y2", x: d.days.map(function (r) { return r.day; }), y: d.days.map(function (r) { return r.bot_share; }), line: { color: SC.palette[3] } },
        ], {
          barmode: "group", xaxis: { type: "category" },
          yaxis2: { overlaying: "y", side: "right", showgrid: false, tickmode: "auto", tickformat: ".1~%", rangemode: "tozero" },
          margin: { l: 55, r: 50, t: 10, b: 40 },
        }),
      ];
      drawn.push(SC.plot("chart-followers", [
        { x: SC.plotTimes(d.followers.ts), y: d.followers.followers, name: "followers", type: "scatter", mode: "lines+markers", line: { color: SC.palette[4], width: 2 } },
      ], { xaxis: { type: "date", hoverformat: "%Y-%m-%d %H:%M UTC" }, yaxis: { tickformat: ",d" }, hovermode: "x unified" }));
      SC.$("neighbours-signal").textContent = d.neighbours_signal ? "Counted as " + SC.signalLabel(d.neighbours_signal) + "." : "";
      SC.table("table-neighbours", [
        { label: "channel", value: function (n) { return SC.link(SC.channelUrl(n.channel_login), n.channel_login); } },
        { label: "shared chatters", num: true, value: function (n) { return f.int(n.shared_chatters); } },
        { label: "of this chat", num: true, value: function (n) { return f.pct(n.share_of_this); } },
        { label: "of theirs", num: true, value: function (n) { return f.pct(n.share_of_other); } },
        { label: "Jaccard", num: true, value: function (n) { return f.num(n.jaccard, 3); } },
      ], d.neighbours, "No channel shares at least k chatters with this one in the period.");
      return Promise.all(drawn);
    });
  });
})();
