// /office/live: the hall now, pushed by the server. An EventSource cannot send the Authorization
// header, so the page POSTs (with its login) for a single-use stream ticket and opens the stream with
// it; after a drop it asks for a new ticket and reconnects (docs/stats.md).
"use strict";
(function () {
  const el = (id) => document.getElementById(id);
  const make = staff.make;
  const STATE = { open: "开放", paused: "暂停", closed: "关闭" };
  let source = null;
  let retry = null;
  let delay = 1000;

  function minutes(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 60) return "不足1分钟";
    const m = Math.floor(seconds / 60);
    return m < 60 ? `${m}分钟` : `${Math.floor(m / 60)}小时${m % 60}分`;
  }

  // an alert's text is the Chinese sentence, then the English one for the log: staff read the first
  function chinese(text) {
    const end = text.indexOf("。 ");
    return end < 0 ? text : text.slice(0, end + 1);
  }

  function status(kind, text) {
    el("status").className = `status-line ${kind}`;
    el("status-text").textContent = text;
  }

  function render(live) {
    const alerting = new Set(live.alerts.map((a) => a.service).filter(Boolean));
    const pausedTooLong = new Set(live.alerts.filter((a) => a.kind === "window_paused").map((a) => a.window));
    el("alerts").replaceChildren(...(live.alerts.length
      ? live.alerts.map((a) => make("li", chinese(a.text), { className: a.kind }))
      : [make("li", "暂无告警：各业务等候时间在目标之内。", { className: "calm" })]));
    el("services").tBodies[0].replaceChildren(...live.services.map((s) => {
      const tr = make("tr", undefined, { className: alerting.has(s.service) ? "over" : "" });
      tr.dataset.service = s.service;
      tr.append(make("td", `${s.name}（${s.service}）`), make("td", `${s.waiting}`, { className: "waiting" }),
        make("td", s.waiting ? minutes(s.longest_wait_s) : "—", { className: s.longest_wait_s > s.target_wait_s ? "bad" : "" }),
        make("td", minutes(s.target_wait_s)), make("td", `${s.open_windows}`, { className: "open-windows" }));
      return tr;
    }));
    el("windows").replaceChildren(...live.windows.map((w) => {
      const box = make("div", undefined, { className: `window ${w.state}${pausedTooLong.has(w.window) ? " alert" : ""}` });
      box.dataset.window = w.window;
      box.dataset.state = w.state;
      box.append(make("div", w.name, { className: "name" }),
        make("div", `${STATE[w.state] || w.state}${w.since_s === null ? "" : " · " + minutes(w.since_s)}`, { className: "state" }));
      return box;
    }));
    el("updated").textContent = `更新于 ${new Date(live.at).toLocaleTimeString("zh-CN", { hour12: false })}`;
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  }

  async function connect() {
    retry = null;
    if (!staff.state.token) return;
    try {
      const grant = await staff.json("POST", `${staff.base()}/stats/live/ticket`);
      source = new EventSource(grant.stream_url);
    } catch (error) {
      if (error.status === 401 || error.status === 403) return;  // the login card says why
      reconnect(error.message);
      return;
    }
    source.addEventListener("live", (event) => {
      delay = 1000;
      status("on", "实时更新中");
      render(JSON.parse(event.data));
    });
    source.onerror = () => reconnect("连接中断");
  }

  // a ticket opens one stream: after a drop (server restart, network), a fresh one, backing off to 30 s
  function reconnect(why) {
    if (source) source.close();
    source = null;
    if (retry) return;
    status("off", `${why}，${Math.round(delay / 1000)}秒后重新连接…`);
    retry = setTimeout(connect, delay);
    delay = Math.min(delay * 2, 30000);
  }

  function ready() {
    hallq.hallName(staff.state.hall, "hall-name");
    if (!source && !retry) connect();
  }

  function stop() {
    if (source) source.close();
    source = null;
  }

  window.addEventListener("beforeunload", stop);
  el("logout").addEventListener("click", stop);
  staff.start(ready);
})();
