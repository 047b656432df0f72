/* Web chat page: renders frames, keeps history in sessionStorage, resends unsent frames. */
(function () {
  "use strict";

  var T = JSON.parse(document.getElementById("texts").textContent);
  var body = document.body;
  var mode = body.getAttribute("data-mode") || "page";
  var idleMinutes = parseInt(body.getAttribute("data-idle-minutes"), 10) || 3;
  var log = document.getElementById("log");
  var statusLine = document.getElementById("status");
  var input = document.getElementById("text");
  var progress = document.getElementById("progress");
  var progressBar = document.getElementById("progress-bar");

  var HISTORY = "motcua.history";
  var PENDING = "motcua.pending";
  var MAX_HISTORY = 300;
  var MAX_FILE = 20 * 1024 * 1024;
  var MAX_FILES = 10;

  // Ids must be unique per session across reloads and tabs: a random page id plus a counter.
  var pageId = randomId();
  var seq = 0;
  var ws = null;
  var delay = 500;
  var reconnectTimer = null;
  var typing = null;

  function randomId() {
    var bytes = new Uint8Array(6);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  function nextId() { seq += 1; return pageId + "-" + seq; }

  function load(name) {
    try { return JSON.parse(sessionStorage.getItem(name) || "[]"); } catch (e) { return []; }
  }
  function save(name, value) {
    try { sessionStorage.setItem(name, JSON.stringify(value)); } catch (e) { /* full: skip */ }
  }
  var history = load(HISTORY);
  var pending = load(PENDING);

  function remember(item) {
    history.push(item);
    if (history.length > MAX_HISTORY) history = history.slice(-MAX_HISTORY);
    save(HISTORY, history);
  }

  // --- rendering ---------------------------------------------------------------------------

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function bubble(text, mine) {
    var div = document.createElement("div");
    div.className = "msg" + (mine ? " me" : "");
    div.textContent = text;
    log.appendChild(div);
    return div;
  }

  function renderMine(item) {
    var div = bubble(item.text, true);
    (item.previews || []).forEach(function (url) {
      var img = document.createElement("img");
      img.src = url;
      img.alt = "";
      div.appendChild(img);
    });
  }

  function renderReply(frame) {
    var div = bubble(frame.text || "", false);
    (frame.images || []).forEach(function (m) {
      if (!m.url) return;
      var img = document.createElement("img");
      img.src = m.url;
      img.alt = m.caption || "";
      img.addEventListener("load", function () {
        // Follow the image down only if the reader was already at the end.
        var below = log.scrollHeight - log.scrollTop - log.clientHeight;
        if (below - img.offsetHeight < 40) scrollDown();
      });
      img.addEventListener("error", function () { img.replaceWith(note(T.expired)); });
      div.appendChild(img);
      if (m.caption) div.appendChild(note(m.caption));
    });
    (frame.documents || []).forEach(function (m) {
      if (!m.url) return;
      if (m.caption) div.appendChild(note(m.caption));
      var a = document.createElement("a");
      a.className = "download";
      a.href = m.url;
      a.setAttribute("download", "");
      a.textContent = m.label;
      div.appendChild(a);
    });
    renderButtons(frame.buttons);
  }

  function note(text) {
    var span = document.createElement("span");
    span.className = "caption";
    span.textContent = text;
    return span;
  }

  function renderButtons(rows) {
    if (!rows || !rows.length) return;
    var box = document.createElement("div");
    box.className = "buttons";
    var lastTap = 0;
    rows.forEach(function (row) {
      // A row of the reply is a line of buttons (two short ones side by side), wrapping
      // when they do not fit: a long review fits one phone screen.
      var line = document.createElement("div");
      line.className = "row";
      box.appendChild(line);
      row.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.text;
        btn.addEventListener("click", function () {
          // An unsteady double tap is one choice, not two.
          if (Date.now() - lastTap < 1500) return;
          lastTap = Date.now();
          say(b.text);
          send({type: "button", id: nextId(), payload: b.payload, text: b.text});
        });
        line.appendChild(btn);
      });
    });
    log.appendChild(box);
  }

  function render(item) {
    if (item.kind === "me") renderMine(item); else renderReply(item.frame);
  }

  function say(text, previews) {
    var item = {kind: "me", text: text};
    remember(item);
    renderMine({text: text, previews: previews});
    scrollDown();
  }

  function showTyping() {
    var busy = pending.length > 0 && ws && ws.readyState === 1;
    if (busy && !typing) {
      typing = document.createElement("div");
      typing.className = "typing";
      typing.textContent = T.waiting;
    }
    if (busy) {
      var shown = typing.parentNode;
      log.appendChild(typing);  // kept last, below any reply that just came in
      if (!shown) scrollDown();
    }
    else if (typing && typing.parentNode) typing.parentNode.removeChild(typing);
  }

  // --- the connection ----------------------------------------------------------------------

  function send(frame) {
    pending.push(frame);
    save(PENDING, pending);
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(frame));
    showTyping();
  }

  // The first reply element of each turn: a long answer is read from its top, not its end.
  var turnStart = {};

  function showNewReply(frame, firstElement) {
    if (!turnStart[frame.re]) turnStart[frame.re] = firstElement;
    var top = turnStart[frame.re].offsetTop - 8;
    if (log.scrollHeight - top > log.clientHeight) log.scrollTop = top; else scrollDown();
  }

  function onFrame(frame) {
    if (frame.type === "reply") {
      remember({kind: "bot", frame: frame});
      var before = log.lastChild;
      renderReply(frame);
      showNewReply(frame, before ? before.nextSibling : log.firstChild);
    } else if (frame.type === "done") {
      pending = pending.filter(function (f) { return f.id !== frame.id; });
      save(PENDING, pending);
    }
    showTyping();
  }

  function connect() {
    reconnectTimer = null;
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var url = proto + location.host + "/ws" + (mode === "embed" ? "?embed=1" : "");
    ws = new WebSocket(url);
    ws.onopen = function () {
      statusLine.textContent = "";
      delay = 500;
      // Same ids as before: the server drops what it already handled and replays its answer.
      pending.forEach(function (f) { ws.send(JSON.stringify(f)); });
      showTyping();
    };
    ws.onmessage = function (ev) {
      var frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      if (frame && typeof frame === "object") onFrame(frame);
    };
    ws.onclose = function () {
      statusLine.textContent = T.reconnecting;
      showTyping();
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    var wait = delay + Math.floor(Math.random() * 250);
    delay = Math.min(delay * 2, 15000);
    reconnectTimer = setTimeout(connect, wait);
  }

  function reconnectNow() {
    if (ws && ws.readyState <= 1) return;
    if (reconnectTimer) { clearTimeout(reconnectTimer); reconnectTimer = null; }
    delay = 500;
    connect();
  }

  // --- sending text and files --------------------------------------------------------------

  document.getElementById("form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    say(text);
    send({type: "text", id: nextId(), text: text});
    input.value = "";
  });

  function acceptable(file) {
    if (/^image\//.test(file.type) || file.type === "application/pdf") return true;
    return !file.type && /\.(jpe?g|png|heic|heif|pdf)$/i.test(file.name);
  }

  function uploadOne(file, done, onProgress) {
    var xhr = new XMLHttpRequest();
    var form = new FormData();
    form.append("file", file, file.name);
    xhr.open("POST", "/upload");
    xhr.upload.onprogress = function (ev) { if (ev.lengthComputable) onProgress(ev.loaded); };
    xhr.onload = function () {
      if (xhr.status === 200) {
        try { done(null, JSON.parse(xhr.responseText).ref); } catch (e) { done(T.upload_failed); }
      } else if (xhr.status === 413) done(T.too_large);
      else if (xhr.status === 503) done(T.busy);
      else done(T.upload_failed);
    };
    xhr.onerror = function () { done(T.upload_failed); };
    xhr.send(form);
  }

  function uploadAll(files) {
    statusLine.textContent = "";
    if (files.length > MAX_FILES) { statusLine.textContent = T.too_many; return; }
    for (var i = 0; i < files.length; i++) {
      if (!acceptable(files[i])) { statusLine.textContent = T.wrong_type; return; }
      if (files[i].size > MAX_FILE) { statusLine.textContent = T.too_large; return; }
    }
    var total = files.reduce(function (n, f) { return n + f.size; }, 0) || 1;
    var sentBytes = 0;
    var refs = [];
    progress.hidden = false;
    progressBar.value = 0;
    statusLine.textContent = T.uploading;
    (function next(index) {
      if (index === files.length) {
        progress.hidden = true;
        statusLine.textContent = "";
        var previews = files.filter(function (f) { return /^image\//.test(f.type); })
          .map(function (f) { return URL.createObjectURL(f); });
        say(T.photos_sent.replace("{n}", String(files.length)), previews);
        send({type: "photo", id: nextId(), refs: refs});
        return;
      }
      uploadOne(files[index], function (error, ref) {
        if (error) {
          progress.hidden = true;
          statusLine.textContent = error;
          return;
        }
        refs.push(ref);
        sentBytes += files[index].size;
        next(index + 1);
      }, function (loaded) {
        progressBar.value = Math.round(100 * (sentBytes + loaded) / total);
      });
    })(0);
  }

  Array.prototype.forEach.call(document.querySelectorAll("input.file"), function (picker) {
    picker.addEventListener("change", function () {
      var files = Array.prototype.slice.call(picker.files || []);
      picker.value = "";
      if (files.length) uploadAll(files);
    });
  });

  // --- kiosk -------------------------------------------------------------------------------

  function startOver() {
    // The cookie is HttpOnly: only the server can hand out a new one.
    fetch("/session/new", {method: "POST", credentials: "same-origin"})
      .catch(function () { return null; })
      .then(function () {
        try { sessionStorage.clear(); } catch (e) { /* nothing kept */ }
        location.reload();
      });
  }

  function printReceipt() {
    for (var i = history.length - 1; i >= 0; i--) {
      var docs = history[i].kind === "bot" ? history[i].frame.documents || [] : [];
      for (var j = 0; j < docs.length; j++) {
        if (docs[j].receipt && docs[j].url) {
          window.open(docs[j].url + "?inline=1", "_blank", "noopener");
          return;
        }
      }
    }
    statusLine.textContent = T.no_receipt;
  }

  if (mode === "kiosk") {
    document.getElementById("restart").addEventListener("click", startOver);
    document.getElementById("print").addEventListener("click", printReceipt);
    var idleTimer = null;
    var touched = function () {
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = setTimeout(function () {
        if (history.length > 1) startOver();
      }, idleMinutes * 60000);
    };
    // What a visitor does, not what the page does: the page's own scrolling to a new answer
    // fires "scroll" too, and must not keep an abandoned kiosk from starting over.
    ["click", "keydown", "touchstart", "touchmove", "input", "wheel"].forEach(function (name) {
      document.addEventListener(name, touched, {capture: true, passive: true});
    });
    touched();
  }

  // --- start -------------------------------------------------------------------------------

  history.forEach(render);
  scrollDown();
  if (!history.length && !pending.length) send({type: "start", id: nextId()});
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") reconnectNow();
  });
  connect();
})();
