/* Chat lists read: which channels' chat lists streamcensus read on the day, on what ground. */
(function () {
  "use strict";
  var f = SC.fmt;

  SC.page(function (day) {
    return SC.load("chat-lists", { day: day }).then(function (d) {
      SC.$("summary").textContent = "Chat lists read: " + f.int(d.by_consent) + " channels by consent, " +
        f.int(d.by_moderation) + " by moderation.";
      SC.table("table-chatlists", [
        { label: "channel", value: function (c) { return SC.link(SC.channelUrl(c.channel_login), c.channel_name); } },
        { label: "ground", value: function (c) { return c.ground; } },
        { label: "snapshots read", num: true, value: function (c) { return f.int(c.snapshots); } },
        { label: "from", value: function (c) { return f.time(c.first_read) + " UTC"; } },
        { label: "to", value: function (c) { return f.time(c.last_read) + " UTC"; } },
      ], d.channels, "No chat list was read on this day.");
    });
  });
})();
