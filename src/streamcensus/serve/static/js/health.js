/* Pipeline health: snapshots, errors, rate-limit use, lake size and compression per day. */
(function () {
  "use strict";
  var f = SC.fmt;

  SC.page(function (day) {
    return SC.load("health", { day: day }).then(function (d) {
      var t = d.totals;
      var rows = d.days;
      var x = rows.map(function (r) { return r.day; });
      var last = rows.length ? rows[rows.length - 1] : null;
      SC.tiles("tiles", [
        ["days loaded (shown)", f.int(t.days)],
        ["snapshots complete", f.int(t.snapshots_complete) + " / " + f.int(t.snapshots_expected)],
        ["snapshots partial", f.int(t.snapshots_partial)],
        ["API errors", f.int(t.api_errors)],
        ["HTTP 429", f.int(t.http_429)],
        ["lake size (raw + curated)", f.bytes(t.raw_bytes + t.curated_bytes)],
        ["bytes per presence observation (raw → curated)", last && last.raw_bytes_per_observation !== null
          ? f.num(last.raw_bytes_per_observation, 2) + " → " + f.num(last.curated_bytes_per_observation, 2) : "–"],
        ["quarantined files", f.int(t.quarantined_files)],
        ["chat-list tokens tripped (last day)", last ? f.int(last.chat_list_tokens_tripped) + " of " + f.int(last.chat_list_readers) +
          (last.chat_list_channels_affected ? ", " + f.int(last.chat_list_channels_affected) + " channels unread" : "") : "–"],
        ["chat windows partial (last day)", last ? f.pct(last.chat_partial_share) + " of " + f.int(last.chat_windows) : "–"],
        ["channels never joined in a window (last day)", last ? f.int(last.chat_channels_not_joined) : "–"],
        ["follower readings complete (last day)", last ? f.int(last.followers_readings_complete) + " / " + f.int(last.followers_readings) +
          (last.followers_readings_no_token ? " (" + f.int(last.followers_readings_no_token) + " without a user token)" : "") : "–"],
      ]);
      var dayAxis = { type: "category" };
      return Promise.all([
        SC.plot("chart-snapshots", [
          { type: "bar", name: "complete", x: x, y: rows.map(function (r) { return r.snapshots_complete; }), marker: { color: SC.palette[2] } },
          { type: "bar", name: "partial", x: x, y: rows.map(function (r) { return r.snapshots_partial; }), marker: { color: SC.palette[1] } },
          { type: "bar", name: "missing", x: x, y: rows.map(function (r) { return r.snapshots_missing; }), marker: { color: "#c9c4d8" } },
        ], { barmode: "stack", xaxis: dayAxis }),
        SC.plot("chart-errors", [
          { type: "bar", name: "API errors", x: x, y: rows.map(function (r) { return r.api_errors; }), marker: { color: SC.palette[3] } },
          { type: "bar", name: "HTTP 429", x: x, y: rows.map(function (r) { return r.http_429; }), marker: { color: SC.palette[1] } },
          { type: "scatter", mode: "lines+markers", name: "rate-limit use", yaxis: "y2", x: x, y: rows.map(function (r) { return r.rate_limit_use; }), line: { color: SC.palette[0] } },
        ], {
          barmode: "group", xaxis: dayAxis,
          yaxis2: { overlaying: "y", side: "right", showgrid: false, tickmode: "auto", tickformat: ".1~%", rangemode: "tozero" },
          margin: { l: 55, r: 50, t: 10, b: 40 },
        }),
        SC.plot("chart-bytes", [
          { type: "bar", name: "raw", x: x, y: rows.map(function (r) { return r.raw_bytes; }), marker: { color: SC.palette[5] } },
          { type: "bar", name: "curated", x: x, y: rows.map(function (r) { return r.curated_bytes; }), marker: { color: SC.palette[0] } },
        ], { barmode: "group", xaxis: dayAxis, yaxis: { tickformat: ".2s", ticksuffix: "B" } }),
      ]).then(function () {
        SC.table("table-days", [
          { label: "day", value: function (r) { return r.day; } },
          { label: "complete", num: true, value: function (r) { return f.int(r.snapshots_complete); } },
          { label: "partial", num: true, value: function (r) { return f.int(r.snapshots_partial); } },
          { label: "errors", num: true, value: function (r) { return f.int(r.api_errors); } },
          { label: "rate limit", num: true, value: function (r) { return f.pct(r.rate_limit_use); } },
          { label: "raw", num: true, value: function (r) { return f.bytes(r.raw_bytes); } },
          { label: "compression", num: true, value: function (r) { return r.compression_ratio === null ? "–" : f.num(r.compression_ratio, 1) + "×"; } },
        ], rows.slice().reverse());
        SC.table("table-tokens", [
          { label: "day", value: function (r) { return r.day; } },
          { label: "token of", value: function (r) { return r.reader_login; } },
          { label: "ground", value: function (r) { return r.ground; } },
          { label: "state", value: function (r) { return r.tripped ? "tripped" + (r.tripped_at ? " at " + f.time(r.tripped_at) + " UTC" : "") : r.state; } },
          { label: "reason", value: function (r) { return r.reason || "–"; } },
          { label: "channels affected", num: true, value: function (r) { return f.int(r.channels_affected); } },
        ], d.tokens, "No user token read chat lists in this period.");
        SC.table("table-chat", [
          { label: "day", value: function (r) { return r.day; } },
          { label: "activity rows", num: true, value: function (r) { return f.int(r.activity_observations); } },
          { label: "windows", num: true, value: function (r) { return f.int(r.chat_windows); } },
          { label: "partial", num: true, value: function (r) { return f.int(r.chat_windows_partial); } },
          { label: "not joined", num: true, value: function (r) { return f.int(r.chat_windows_not_joined); } },
          { label: "follower readings", num: true, value: function (r) { return f.int(r.followers_readings_complete) + " / " + f.int(r.followers_readings); } },
        ], rows.slice().reverse());
        return cost();
      });
    });
  });

  function usd(x) {
    var digits = x > 0 && x < 0.01 ? 4 : 2;
    return "$" + x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: digits });
  }

  /* A month of running, measured and priced (`/api/cost`; not in a static export). */
  function cost() {
    var card = document.getElementById("cost");
    return SC.load("cost").then(function (c) {
      var lines = Object.keys(c.by_component).map(function (k) {
        return { name: k, usd: c.by_component[k] };
      });
      lines.push({ name: "total (billed, list " + usd(c.total_list_usd) + ")", usd: c.total_billed_usd });
      lines.push({ name: "the write-up, " + c.writeup.region, usd: c.writeup.total_usd_month });
      SC.table("table-cost", [
        { label: "component", value: function (r) { return r.name; } },
        { label: "USD a month", num: true, value: function (r) { return usd(r.usd); } },
      ], lines);
      var m = c.measured;
      document.getElementById("cost-note").textContent =
        "Measured on " + f.int(m.snapshots) + " snapshots (" + m.first_day + " to " + m.last_day +
        "), " + f.int(m.channels_per_snapshot) + " channels listed per snapshot; priced with " +
        c.price_table + " (" + c.prices_as_of + "), storage as in month " + c.month_of_running +
        ". `streamcensus cost` shows every line.";
      card.hidden = false;
    }, function () { card.hidden = true; });
  }
})();
