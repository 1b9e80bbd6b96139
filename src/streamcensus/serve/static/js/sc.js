/* streamcensus dashboard: data loading, day picker, channel search, charts and formatting.
 *
 * A plain script (no ES modules) so the static export also opens from file://: there, data
 * comes from precomputed `data/<endpoint>/<key>.js` files that call SC.provide(key, data),
 * loaded with <script> tags, which file:// allows (fetch and modules it does not).
 */
(function () {
  "use strict";

  /* The page's config: a JSON data block written by the server (no inline script runs). */
  function readConfig() {
    var block = document.getElementById("sc-config");
    try {
      return JSON.parse(block ? block.textContent : "null") || { days: [], links: {}, rules: {} };
    } catch (err) {
      return { days: [], links: {}, rules: {} };
    }
  }

  var cfg = readConfig();
  var SC = (window.SC = { cfg: cfg, data: {} });
  var params = new URLSearchParams(window.location.search);
  var render = null;
  var current = null;

  function $(id) { return document.getElementById(id); }
  SC.$ = $;

  SC.param = function (name) { return params.get(name); };
  SC.day = function () { return current; };

  /* The server's rules for parameters (params.py), applied here as there. */
  function fullMatch(pattern, text) {
    return typeof text === "string" && new RegExp("^(?:" + pattern + ")$").test(text);
  }
  SC.isChannel = function (text) { return fullMatch(cfg.rules.channel, text); };
  SC.isDay = function (text) { return fullMatch(cfg.rules.day, text); };

  /* The channel of a channel page: chosen by the server (live) or `?channel=` (static),
   * which must be a Twitch login and, in an export, one whose page was exported. */
  SC.channel = function () {
    if (cfg.channel) return cfg.channel;
    var given = SC.param("channel");
    if (!given) throw new Error("no channel chosen: use the search box");
    if (!SC.isChannel(given)) {
      throw new Error("invalid channel " + JSON.stringify(given) + ": " + cfg.rules.channelText);
    }
    var login = given.toLowerCase();
    if (cfg.channels && cfg.channels.indexOf(login) < 0) {
      throw new Error("this static export has no page for " + login +
        " (export it with a larger --channels)");
    }
    return login;
  };

  /* Text that plotly draws (labels, hover text, legends): plotly reads a few HTML tags and
   * entities in it, so a name from Twitch is escaped to show as it is written. */
  SC.esc = function (text) {
    if (text === null || text === undefined) return "";
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  };

  /* The export's file key for an endpoint and its query: "map/day-2026-11-27_window-7". */
  SC.key = function (endpoint, query) {
    var names = Object.keys(query || {}).filter(function (k) {
      return query[k] !== null && query[k] !== undefined;
    }).sort();
    var parts = names.map(function (k) { return k + "-" + query[k]; });
    return endpoint + "/" + (parts.length ? parts.join("_") : "index");
  };

  SC.provide = function (key, value) { SC.data[key] = value; };

  var STATIC_ENDPOINTS = ["overview", "schedules", "habits", "health", "map", "exposure", "channels",
    "chat-lists", "followers", "rankings", "games"];
  var RANKED = ["rankings", "games"];  // endpoints whose windows are 1, 7 and 30 days
  var SIGNALS = Object.keys(cfg.signals || {});

  function listed(list, value) {
    var i = (list || []).indexOf(value);
    return i < 0 ? null : list[i];
  }

  /* The export's data file for an endpoint and query, built only from the names this
   * export holds (its endpoints, days, windows and channels); null for anything else, so
   * a parameter never chooses which script the page loads. */
  function dataFile(endpoint, query) {
    var parts = endpoint.split("/");
    var clean = [listed(STATIC_ENDPOINTS, parts[0])];
    if (parts.length === 2 && parts[0] === "channels") clean.push(listed(cfg.channels, parts[1]));
    else if (parts.length === 2 && parts[0] === "games") clean.push(listed(cfg.games, parts[1]));
    else if (parts.length !== 1) return null;
    var windows = RANKED.indexOf(parts[0]) < 0 ? cfg.rules.windows : cfg.rules.rankingWindows;
    var picked = {};
    var ok = clean.every(function (p) { return p !== null; });
    Object.keys(query).forEach(function (name) {
      var value = query[name];
      if (value === null || value === undefined) return;
      if (name === "day") picked.day = listed(cfg.days, value);
      else if (name === "window") picked.window = listed(windows, Number(value));
      else if (name === "by") picked.by = listed(Object.keys(cfg.rules.measures || {}), value);
      else if (name === "kind") picked.kind = listed(cfg.rules.kinds, value);
      else if (name === "signal") picked.signal = listed(SIGNALS, value);
      else picked[name] = null;
      if (picked[name] === null) ok = false;
    });
    return ok ? SC.key(clean.join("/"), picked) : null;
  }

  /* Data of an endpoint: from the API (live) or from the export's data files (static). */
  SC.load = function (endpoint, query) {
    query = query || {};
    if (cfg.mode === "static") {
      var key = dataFile(endpoint, query);
      if (key === null) {
        return Promise.reject(new Error("this static export holds no " + endpoint.split("/")[0] +
          " data for that choice"));
      }
      if (Object.prototype.hasOwnProperty.call(SC.data, key)) {
        return Promise.resolve(SC.data[key]);
      }
      return new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = cfg.dataBase + key + ".js";
        tag.onload = function () {
          tag.remove();
          if (Object.prototype.hasOwnProperty.call(SC.data, key)) resolve(SC.data[key]);
          else reject(new Error("this export holds no data for " + key));
        };
        tag.onerror = function () {
          tag.remove();
          reject(new Error("this static export does not include " + endpoint +
            (query.day ? " on " + query.day : "") + " (export it with a wider --from/--to or --channels)"));
        };
        document.head.appendChild(tag);
      });
    }
    var search = new URLSearchParams();
    Object.keys(query).forEach(function (k) {
      if (query[k] !== null && query[k] !== undefined) search.set(k, query[k]);
    });
    var path = endpoint.split("/").map(encodeURIComponent).join("/");
    var url = cfg.apiBase + path + (search.toString() ? "?" + search.toString() : "");
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.detail || response.statusText);
        return body;
      });
    });
  };

  /* Links between pages keep the chosen day. */
  SC.url = function (page, extra) {
    var query = new URLSearchParams();
    extra = extra || {};
    var base = cfg.links[page];
    if (page === "channel" && cfg.mode === "live") {
      base = cfg.links.channel + encodeURIComponent(extra.channel);
    } else if (page === "channel") {
      query.set("channel", extra.channel);
    }
    if (current) query.set("day", current);
    Object.keys(extra).forEach(function (k) {
      if (k !== "channel") query.set(k, extra[k]);
    });
    var text = query.toString();
    return text ? base + "?" + text : base;
  };
  SC.channelUrl = function (login) { return SC.url("channel", { channel: login }); };

  SC.setParam = function (name, value) {
    params.set(name, value);
    try {
      window.history.replaceState(null, "", "?" + params.toString());
    } catch (err) {
      /* file:// pages may refuse history changes; the page still works. */
    }
  };

  /* ---- presence signals ----
   * chat_activity (people who posted: the whole community) or chat_list (people in the
   * chat list: only channels whose chat list is read); labels from the server's config. */
  SC.signalLabel = function (signal) { return (cfg.signals || {})[signal] || signal; };

  /* The page's signal selector (`<select id="signal">`): the chosen signal, kept in the
   * URL; `redraw` runs on a change. Unknown values fall back to chat activity. */
  SC.signalChoice = function (redraw) {
    var chosen = listed(SIGNALS, SC.param("signal")) || "chat_activity";
    var select = $("signal");
    if (select) {
      select.textContent = "";
      SIGNALS.forEach(function (signal) {
        var option = document.createElement("option");
        option.value = signal;
        option.textContent = SC.signalLabel(signal);
        select.appendChild(option);
      });
      select.value = chosen;
      select.addEventListener("change", function () {
        chosen = select.value;
        SC.setParam("signal", chosen);
        if (SC.day()) redraw(SC.day()).catch(SC.fail);
      });
    }
    return function () { return chosen; };
  };

  /* Says which signal the figures shown come from, and which signals have figures. */
  SC.showSignal = function (d) {
    var box = $("signal-note");
    if (!box) return;
    var others = (d.signals || []).filter(function (s) { return s !== d.signal; });
    var text = "Figures from " + d.signal_label + ".";
    if ((d.signals || []).indexOf(d.signal) < 0) text += " None are published for this choice.";
    if (others.length) text += " Also available: " + others.map(SC.signalLabel).join(", ") + ".";
    box.textContent = text;
  };

  /* A ranked figure (current, previous, change, change_pct) as a cell: the value, then its
   * change against the previous period ("+12 (+25%)"), or "new" / "–" where it has none. */
  SC.trend = function (fig, format) {
    var span = document.createElement("span");
    span.textContent = format(fig.current);
    var change = document.createElement("span");
    change.className = "change small";
    if (fig.change === null || fig.change === undefined) {
      change.textContent = "";
    } else {
      var sign = fig.change > 0 ? "+" : "";
      var text = sign + format(fig.change);
      if (fig.change_pct !== null && fig.change_pct !== undefined) {
        text += " (" + sign + SC.fmt.pct(fig.change_pct, 0) + ")";
      }
      change.textContent = text;
      change.className += fig.change > 0 ? " up" : fig.change < 0 ? " down" : "";
    }
    span.appendChild(change);
    return span;
  };

  /* Says how much of a window (and of the period before it) was loaded. */
  SC.coverage = function (period, what) {
    var box = $("coverage");
    if (!box) return;
    var notes = [];
    if (period.window_days > 1 && !period.complete) {
      notes.push(what + ": " + period.days_covered + " of the " + period.window_days +
        " days of the period are loaded, so its figures cover those days only.");
    }
    if (period.previous_days_covered === 0) {
      notes.push("No day of the previous period is loaded: no change is shown.");
    }
    box.textContent = notes.join(" ");
    box.hidden = !notes.length;
  };

  SC.notice = function (message) {
    var box = $("notice");
    if (!box) return;
    box.textContent = message || "";
    box.hidden = !message;
  };

  SC.fail = function (err) {
    SC.notice(err && err.message ? err.message : String(err));
  };

  /* ---- formatting ---- */
  var en = new Intl.NumberFormat("en-US");
  SC.fmt = {
    int: function (n) { return n === null || n === undefined ? "–" : en.format(Math.round(n)); },
    num: function (n, digits) {
      if (n === null || n === undefined) return "–";
      return n.toLocaleString("en-US", { maximumFractionDigits: digits === undefined ? 1 : digits });
    },
    pct: function (x, digits) {
      if (x === null || x === undefined) return "–";
      return (x * 100).toLocaleString("en-US", { maximumFractionDigits: digits === undefined ? 1 : digits }) + "%";
    },
    bytes: function (n) {
      if (n === null || n === undefined) return "–";
      var units = ["B", "kB", "MB", "GB", "TB"];
      var i = 0;
      while (n >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
      return n.toLocaleString("en-US", { maximumFractionDigits: i ? 1 : 0 }) + " " + units[i];
    },
    time: function (iso) { return iso ? iso.slice(11, 16) : "–"; },
  };

  /* Plotly reads "YYYY-MM-DD HH:MM:SS" as wall time; the dashboard shows UTC. */
  SC.plotTime = function (iso) { return iso.replace("T", " ").replace("Z", ""); };
  SC.plotTimes = function (list) { return list.map(SC.plotTime); };

  var PALETTE = ["#5b3cc4", "#e8743b", "#19a979", "#ed4a7b", "#13a4b4", "#d4a017",
    "#945ecf", "#6c8893", "#2f6497", "#ee6868", "#7bb33a", "#bf399e", "#a0522d", "#525df4",
    "#3f9f9f", "#c06c84", "#8c8c2f", "#e377c2", "#1f77b4", "#9c6b3e"];
  var colors = {};
  var used = 0;
  SC.palette = PALETTE;
  /* A colour per name (a game), the same in every chart of the page. */
  SC.colorFor = function (name) {
    var key = name || "";
    if (!Object.prototype.hasOwnProperty.call(colors, key)) {
      colors[key] = PALETTE[(used + 1) % PALETTE.length];
      used += 1;
    }
    return colors[key];
  };

  /* ---- drawing ---- */
  SC.plot = function (id, traces, layout, config) {
    var el = $(id);
    var base = {
      margin: { l: 55, r: 20, t: 10, b: 40 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12, color: "#1d1b26" },
      legend: { orientation: "h", y: -0.18 },
      hoverlabel: { namelength: -1 },
    };
    var options = Object.assign({ displaylogo: false, responsive: true,
      modeBarButtonsToRemove: ["select2d", "lasso2d"] }, config || {});
    return window.Plotly.react(el, traces, Object.assign(base, layout || {}), options).then(function () {
      el.dataset.day = current || "";
      el.dataset.draws = String((Number(el.dataset.draws) || 0) + 1);
      return el;
    });
  };

  SC.tiles = function (id, items) {
    var box = $(id);
    box.textContent = "";
    items.forEach(function (item) {
      var tile = document.createElement("div");
      tile.className = "tile";
      var value = document.createElement("div");
      value.className = "value";
      value.textContent = item[1];
      var label = document.createElement("div");
      label.className = "label";
      label.textContent = item[0];
      tile.appendChild(value);
      tile.appendChild(label);
      box.appendChild(tile);
    });
  };

  SC.link = function (href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  };

  /* A table; a column is {label, value: row -> text or Node, num: bool}. */
  SC.table = function (id, columns, rows, empty) {
    var box = $(id);
    box.textContent = "";
    if (!rows.length) {
      var p = document.createElement("p");
      p.className = "muted";
      p.textContent = empty || "Nothing to show for this day.";
      box.appendChild(p);
      return;
    }
    var table = document.createElement("table");
    table.className = "table";
    var head = table.createTHead().insertRow();
    columns.forEach(function (c) {
      var th = document.createElement("th");
      th.textContent = c.label;
      if (c.num) th.className = "num";
      head.appendChild(th);
    });
    var body = table.createTBody();
    rows.forEach(function (row) {
      var tr = body.insertRow();
      columns.forEach(function (c) {
        var td = tr.insertCell();
        var v = c.value(row);
        if (v instanceof Node) td.appendChild(v); else td.textContent = v;
        if (c.num) td.className = "num";
      });
    });
    box.appendChild(table);
  };

  /* ---- day picker ---- */
  function dayIndex(day) { return cfg.days.indexOf(day); }

  function refreshLinks() {
    document.querySelectorAll("[data-nav]").forEach(function (a) {
      a.href = SC.url(a.dataset.nav);
    });
  }

  function show(day) {
    current = day;
    var input = $("day");
    if (input) input.value = day;
    var i = dayIndex(day);
    if ($("prev-day")) $("prev-day").disabled = i <= 0;
    if ($("next-day")) $("next-day").disabled = i < 0 || i >= cfg.days.length - 1;
    refreshLinks();
    if (!render) return;
    SC.notice(null);
    var body = document.body;
    body.dataset.state = "loading";
    Promise.resolve().then(function () { return render(day); }).then(function () {
      if (current === day) body.dataset.state = "ready";
    }, function (err) {
      SC.fail(err);
      body.dataset.state = "error";
    });
  }

  SC.setDay = function (day) {
    if (dayIndex(day) < 0) {
      var span = cfg.days.length ? cfg.days[0] + " to " + cfg.days[cfg.days.length - 1] : "none";
      SC.notice("no data for " + day + ": the loaded days are " + span);
      return;
    }
    SC.setParam("day", day);
    show(day);
  };

  /* Register the page's drawing function, called with the chosen day. */
  SC.page = function (fn) { render = fn; };

  function startDays() {
    if (!cfg.days.length) return;
    var wanted = cfg.day || SC.param("day") || cfg.latest;
    if (dayIndex(wanted) < 0) {
      SC.notice("no data for " + wanted + "; showing the latest loaded day, " + cfg.latest);
      wanted = cfg.latest;
    }
    var input = $("day");
    if (input) {
      input.addEventListener("change", function () { if (input.value) SC.setDay(input.value); });
    }
    if ($("prev-day")) $("prev-day").addEventListener("click", function () {
      SC.setDay(cfg.days[Math.max(0, dayIndex(current) - 1)]);
    });
    if ($("next-day")) $("next-day").addEventListener("click", function () {
      SC.setDay(cfg.days[Math.min(cfg.days.length - 1, dayIndex(current) + 1)]);
    });
    var notice = $("notice");
    var kept = notice && !notice.hidden ? notice.textContent : null;
    show(wanted);
    if (kept) SC.notice(kept);
  }

  /* ---- channel search ---- */
  function prefixMatches(list, q) {
    var low = q.toLowerCase();
    return list.filter(function (c) {
      return c.channel_login.toLowerCase().indexOf(low) === 0 ||
        c.channel_name.toLowerCase().indexOf(low) === 0;
    }).sort(function (a, b) {
      var ea = a.channel_login.toLowerCase() === low ? 0 : 1;
      var eb = b.channel_login.toLowerCase() === low ? 0 : 1;
      return ea - eb || b.viewer_hours - a.viewer_hours ||
        (a.channel_login < b.channel_login ? -1 : 1);
    }).slice(0, 8);
  }

  function findChannels(q) {
    if (cfg.mode === "static") {
      return SC.load("channels", {}).then(function (d) { return prefixMatches(d.channels, q); });
    }
    return SC.load("channels", { q: q, limit: 8 }).then(function (d) { return d.channels; });
  }

  function startSearch() {
    var form = $("search");
    var input = $("search-input");
    var list = $("search-results");
    if (!form || !input || !list) return;
    var found = [];
    var active = -1;
    var seq = 0;
    var timer = null;
    var shown = null;

    function hide() { list.hidden = true; active = -1; }
    function draw() {
      list.textContent = "";
      if (!found.length) {
        var none = document.createElement("li");
        none.className = "muted none";
        none.textContent = "no channel starts with that";
        list.appendChild(none);
      }
      found.forEach(function (c, i) {
        var li = document.createElement("li");
        var a = SC.link(SC.channelUrl(c.channel_login), c.channel_name);
        if (i === active) a.className = "active";
        var login = document.createElement("span");
        login.className = "login";
        login.textContent = c.channel_login;
        a.appendChild(login);
        li.appendChild(a);
        list.appendChild(li);
      });
      list.hidden = false;
    }
    function run() {
      var q = input.value.trim();
      if (!q) { found = []; hide(); return; }
      var n = (seq += 1);
      findChannels(q).then(function (items) {
        if (n !== seq) return;
        found = items;
        shown = q;
        active = items.length ? 0 : -1;
        draw();
      }).catch(function () { hide(); });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 120);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" && found.length) { active = (active + 1) % found.length; draw(); e.preventDefault(); }
      else if (e.key === "ArrowUp" && found.length) { active = (active - 1 + found.length) % found.length; draw(); e.preventDefault(); }
      else if (e.key === "Escape") hide();
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var q = input.value.trim();
      if (!q) return;
      clearTimeout(timer);
      var pick = found.length && active >= 0 && shown === q
        ? Promise.resolve(found[active])
        : findChannels(q).then(function (items) { return items[0]; });
      pick.then(function (c) {
        if (c) window.location.href = SC.channelUrl(c.channel_login);
        else if (cfg.mode === "live") window.location.href = cfg.links.channels + "?q=" + encodeURIComponent(q);
        else { found = []; shown = q; draw(); }
      }).catch(SC.fail);
    });
    document.addEventListener("click", function (e) {
      if (!form.contains(e.target)) hide();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    startSearch();
    startDays();
  });
})();
