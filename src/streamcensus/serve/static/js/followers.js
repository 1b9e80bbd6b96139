/* Followers: channels ranked by followers gained in the day or in the 7 days ending on it. */
(function () {
  "use strict";
  var f = SC.fmt;
  var select = SC.$("window");
  var windowDays = SC.param("window") === "7" ? 7 : 1;
  if (select) select.value = String(windowDays);

  function draw(day) {
    return SC.load("followers", { day: day, window: windowDays }).then(function (d) {
      SC.table("table-followers", [
        { label: "channel", value: function (c) { return SC.link(SC.channelUrl(c.channel_login), c.channel_name); } },
        { label: "followers", num: true, value: function (c) { return f.int(c.followers); } },
        { label: d.window_days === 1 ? "gained in the day" : "gained in 7 days", num: true, value: function (c) { return f.int(c.gained); } },
        { label: "since", value: function (c) { return c.gained_since.slice(0, 16).replace("T", " "); } },
      ], d.channels, "No follower totals were read for this period.");
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
