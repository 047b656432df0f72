// The console's only script: the live inbox of "Gặp cán bộ" without reloading the page.
// It polls the console's own JSON (same origin, the session cookie) and builds rows with
// textContent only, never HTML from the server. Without it every page still works: a reload
// shows the same. The poll does not keep an idle session alive (the server does not touch it).
"use strict";
(function () {
  var every = parseInt(document.body.getAttribute("data-poll"), 10) || 3000;
  var count = document.getElementById("handoff-count");
  var table = document.getElementById("handoffs");
  var empty = document.getElementById("handoffs-empty");
  var thread = document.getElementById("thread");
  var state = document.getElementById("handoff-state");

  function get(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.redirected || !response.ok) { throw new Error("signed out or gone"); }
        return response.json();
      });
  }

  function cell(row, label, text) {
    var td = document.createElement("td");
    td.setAttribute("data-label", label);
    if (text !== undefined) { td.textContent = text; }
    row.appendChild(td);
    return td;
  }

  function tag(text, kind) {
    var span = document.createElement("span");
    span.className = "tag " + kind;
    span.textContent = text;
    return span;
  }

  function rows(data) {
    if (count) {
      count.textContent = data.waiting ? String(data.waiting) : "";
      count.hidden = !data.waiting;
    }
    if (!table) { return; }
    var body = document.createDocumentFragment();
    data.rows.forEach(function (r) {
      var tr = document.createElement("tr");
      if (r.open && (r.unread || !r.claimed_by)) { tr.className = "new"; }
      if (!r.open) { tr.className += " done"; }
      var first = cell(tr, "Cuộc trò chuyện");
      var link = document.createElement("a");
      link.href = r.url;
      link.textContent = "Trò chuyện số " + r.id;
      first.appendChild(link);
      if (r.waiting) { first.appendChild(document.createTextNode(" ")); first.appendChild(tag("Ngoài giờ", "late")); }
      cell(tr, "Kênh", r.channel);
      cell(tr, "Tình trạng", r.state);
      var unread = cell(tr, "Tin mới");
      if (r.unread) { unread.appendChild(tag(String(r.unread), "new")); } else { unread.textContent = "—"; }
      cell(tr, "Tin gần nhất", r.last);
      body.appendChild(tr);
    });
    table.replaceChildren(body);
    if (empty) { empty.hidden = data.rows.length > 0; }
  }

  function lines(data) {
    data.lines.forEach(function (l) {
      if (thread.querySelector('[data-id="' + l.id + '"]')) { return; }
      var li = document.createElement("li");
      li.className = "line fresh " + l.kind;
      li.setAttribute("data-id", String(l.id));
      var who = document.createElement("span");
      who.className = "speaker";
      who.textContent = l.who;
      var at = document.createElement("span");
      at.className = "muted small";
      at.textContent = l.at;
      var p = document.createElement("p");
      p.textContent = l.text;
      li.appendChild(who);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(at);
      li.appendChild(p);
      thread.appendChild(li);
      thread.setAttribute("data-after", String(l.id));
      thread.scrollTop = thread.scrollHeight;
    });
    if (state && data.handoff) { state.textContent = data.handoff.state; }
  }

  function tick() {
    var work = [];
    var source = (table && table.getAttribute("data-live")) || (count && count.getAttribute("data-live"));
    if (source) { work.push(get(source).then(rows)); }
    if (thread) {
      var url = thread.getAttribute("data-lines") + "?after=" + encodeURIComponent(thread.getAttribute("data-after") || "0");
      work.push(get(url).then(lines));
    }
    Promise.all(work).then(function () { setTimeout(tick, every); }, function () { setTimeout(tick, every * 5); });
  }

  if (thread) { thread.scrollTop = thread.scrollHeight; }
  tick();
})();
