/* Rankings: channels or games by one figure over 1, 7 or 30 days, with their change. */
(function () {
  "use strict";
  var f = SC.fmt;
  var MEASURES = SC.cfg.rules.measures || {};
  var WINDOWS = SC.cfg.rules.rankingWindows || [1, 7, 30];
  var KINDS = SC.cfg.rules.kinds || ["channels", "games"];

  function pick(value, allowed, fallback) { return allowed.indexOf(value) < 0 ? fallback : value; }

  var state = {
    kind: pick(SC.param("kind"), KINDS, "channels"),
    by: pick(SC.param("by"), Object.keys(MEASURES), "hours_watched"),
    window: Number(pick(Number(SC.param("window")), WINDOWS, 7)),
  };
  var signal = SC.signalChoice(draw);

  var FORMAT = {
    hours_watched: function (n) { return f.num(n, 1); },
    peak_viewers: f.int,
    avg_viewers: function (n) { return f.num(n, 1); },
    airtime_hours: function (n) { return f.num(n, 1); },
    chatters: f.int,
  };

  function subjectCell(s, kind) {
    if (kind === "channels" && s.channel_login) return SC.link(SC.channelUrl(s.channel_login), s.name);
    if (kind === "games") return SC.link(SC.url("games", { game: s.id }), s.name);
    return s.name;
  }

  function draw(day) {
    var query = { day: day, window: state.window, kind: state.kind, by: state.by, signal: signal() };
    return SC.load("rankings", query).then(function (d) {
      SC.showSignal({ signal: d.signal, signal_label: d.signal_label, signals: [d.signal] });
      SC.coverage(d.by === "chatters" ? d.chatters_period : d.period,
        d.by === "chatters" ? "Chat size" : "Viewer figures");
      var label = MEASURES[d.by] || d.by;
      var top = d.subjects.slice(0, 15);
      SC.$("chart-title").textContent = "Top " + top.length + " " + d.kind + " by " + label;
      var names = top.map(function (s) { return SC.esc(s.name); });
      var drawn = SC.plot("chart-ranking", [
        { type: "bar", name: "this period", x: names, marker: { color: SC.palette[0] },
          y: top.map(function (s) { return s[d.by].current; }) },
        { type: "bar", name: "previous period", x: names, marker: { color: "#c9bff0" },
          y: top.map(function (s) { return s[d.by].previous; }) },
      ], { barmode: "group", yaxis: { title: { text: label } }, xaxis: { type: "category" } });
      var columns = [
        { label: "#", num: true, value: function (s) { return String(s.rank); } },
        { label: d.kind === "games" ? "game" : "channel", value: function (s) { return subjectCell(s, d.kind); } },
      ];
      if (d.kind === "channels") {
        columns.push({ label: "main game", value: function (s) { return s.main_game || "–"; } });
      }
      Object.keys(MEASURES).forEach(function (m) {
        columns.push({ label: MEASURES[m], num: true, value: function (s) { return SC.trend(s[m], FORMAT[m]); } });
      });
      SC.table("table-ranking", columns, d.subjects,
        "Nothing to rank for this choice (chat size: no " + d.kind + " with at least k people).");
      return drawn;
    });
  }

  function control(id, key, values, labels) {
    var select = SC.$(id);
    if (!select) return;
    if (labels) {
      select.textContent = "";
      values.forEach(function (v) {
        var option = document.createElement("option");
        option.value = v;
        option.textContent = labels[v];
        select.appendChild(option);
      });
    }
    select.value = String(state[key]);
    select.addEventListener("change", function () {
      state[key] = key === "window" ? Number(select.value) : select.value;
      SC.setParam(key, select.value);
      if (SC.day()) draw(SC.day()).catch(SC.fail);
    });
  }

  control("kind", "kind", KINDS);
  control("by", "by", Object.keys(MEASURES), MEASURES);
  control("window", "window", WINDOWS);
  SC.page(draw);
})();
