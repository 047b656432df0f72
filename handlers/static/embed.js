/* motcua embed: <script src="https://motcua.example/embed.js" defer></script>
 * adds a floating "Hỏi thủ tục" button that opens the chat in a frame. */
(function () {
  "use strict";
  var config = /*CONFIG*/{};
  if (!config.url) return;

  var phone = window.matchMedia("(max-width: 600px)");
  var button = document.createElement("button");
  button.id = "motcua-launcher";
  button.type = "button";
  button.textContent = config.button;
  style(button, {
    position: "fixed", right: "16px", bottom: "16px", zIndex: "2147483646",
    font: "700 19px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    padding: "14px 20px", minHeight: "56px", border: "0", borderRadius: "28px",
    background: "#0b4f9c", color: "#fff", cursor: "pointer",
    boxShadow: "0 4px 14px rgba(0,0,0,.3)"
  });

  var panel = null;

  function style(el, props) {
    for (var k in props) if (Object.prototype.hasOwnProperty.call(props, k)) el.style[k] = props[k];
  }

  function layout() {
    if (!panel) return;
    var full = phone.matches;
    style(panel, full
      ? {left: "0", right: "0", top: "0", bottom: "0", width: "auto", height: "auto",
         borderRadius: "0"}
      : {left: "auto", top: "auto", right: "16px", bottom: "84px", width: "400px",
         height: "min(680px, calc(100vh - 110px))", borderRadius: "12px"});
  }

  function open() {
    if (!panel) {
      panel = document.createElement("div");
      panel.id = "motcua-panel";
      style(panel, {
        position: "fixed", zIndex: "2147483647", display: "flex", flexDirection: "column",
        background: "#fff", overflow: "hidden", boxShadow: "0 6px 24px rgba(0,0,0,.35)"
      });
      var bar = document.createElement("button");
      bar.type = "button";
      bar.textContent = "✕ " + config.close;
      style(bar, {
        font: "700 18px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
        minHeight: "48px", border: "0", background: "#083a73", color: "#fff",
        cursor: "pointer", textAlign: "right", padding: "0 16px"
      });
      bar.addEventListener("click", close);
      var frame = document.createElement("iframe");
      frame.src = config.url;
      frame.title = config.title;
      style(frame, {flex: "1", width: "100%", border: "0"});
      panel.appendChild(bar);
      panel.appendChild(frame);
      document.body.appendChild(panel);
    }
    layout();
    panel.style.display = "flex";
    button.style.display = "none";
  }

  function close() {
    if (panel) panel.style.display = "none";
    button.style.display = "";
    button.focus();
  }

  function start() {
    if (document.getElementById("motcua-launcher")) return;  // the snippet pasted twice
    button.addEventListener("click", open);
    if (phone.addEventListener) phone.addEventListener("change", layout);
    document.body.appendChild(button);
  }

  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
