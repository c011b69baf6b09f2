"use strict";
(function () {
  const { hall, id, key } = hallq.parts();
  const api = `/api/v1/halls/${encodeURIComponent(hall)}/tickets/${encodeURIComponent(id)}`;
  const q = `?k=${encodeURIComponent(key)}`;
  const rating = hallqRate.mount(document.getElementById("rating"), {
    hall,
    state: `${api}/evaluation${q}`,
    rate: `/api/v1/halls/${encodeURIComponent(hall)}/evaluations${q}`,
    rateBody: { ticket_id: id },
    followUp: `${api}/evaluation/follow-up${q}`,
  }, { what: "本次服务", phoneHint: "留下手机号，差评整改后工作人员会回访您；号码只用于回访，页面和记录中只显示部分号码。" });

  function show(t) {
    hallq.text("number", t.number);
    hallq.text("service", t.service_name + (t.priority === "green" ? "（绿色通道）" : ""));
    const status = {
      waiting: ["等候中", `前面还有 ${t.ahead} 人，预计等候约 ${hallq.minutes(t.estimated_wait_s)} 分钟`],
      called: [`请到 ${t.window_name || ""} 办理`, "正在叫您的号码"],
      done: ["办理完成", "感谢您的耐心等候"],
      no_show: ["已过号", "您错过了叫号，可在规定时间内重新排队"],
      parked: ["暂时挂起", "请补齐材料后回到窗口，工作人员会再次呼叫"],
      cancelled: ["已取消", ""],
      expired: ["已过期", "当日未办理的号码已失效，请重新取号"],
    }[t.status] || [t.status, ""];
    hallq.text("status", status[0]);
    hallq.text("detail", status[1]);
    document.getElementById("actions").hidden = !["waiting", "no_show"].includes(t.status);
    document.getElementById("rejoin").hidden = t.status !== "no_show";
    document.getElementById("cancel").hidden = t.status !== "waiting";
  }

  const ENDED = ["done", "cancelled", "expired"]; // nothing moves these any more: the stream ends
  const RETRY_MS = 3000;
  let ticket = null;
  let source = null;

  function render(t) {
    ticket = t;
    show(t);
    rating.update(t.status === "done");
    if (ENDED.includes(t.status) && source) {
      source.close();
      source = null;
      linking(false);
    }
  }

  async function refresh() {
    try {
      render(await hallq.call("GET", api + q));
      return true;
    } catch (error) {
      hallq.text("status", "无法查询");
      hallq.text("detail", error.message);
      rating.update(false); // an older ticket has left the live queue: its rating and 追评 still show
      return false;
    }
  }

  function linking(on) {
    document.getElementById("link").hidden = !on;
  }

  // A stream the browser gave up on (a refusal: 503 while another dispatcher takes over the hall):
  // read the ticket quietly and open a new one, waiting longer each time (3 s … 30 s) while the
  // dispatcher stays away; the place shown stays as it was meanwhile, under 重新连接中.
  function reopen(delay) {
    setTimeout(async () => {
      let fresh = null;
      try { fresh = await hallq.call("GET", api + q); } catch (error) { fresh = null; }
      if (!fresh) {
        reopen(Math.min(delay * 2, 30000));
        return;
      }
      render(fresh);
      if (ENDED.includes(fresh.status)) linking(false);
      else connect();
    }, delay);
  }

  // The place in line pushed by the server (Server-Sent Events): each change arrives within a second.
  // EventSource reconnects by itself after a dispatcher restart, sending the last event's id so only
  // what changed meanwhile comes again; when it gives up, reopen() takes over.
  function connect() {
    source = new EventSource(`${api}/events${q}`);
    source.addEventListener("open", () => linking(false));
    source.addEventListener("place", (event) => {
      if (ticket) render(Object.assign({}, ticket, JSON.parse(event.data)));
    });
    source.addEventListener("error", () => {
      if (!source) return;
      linking(true);
      if (source.readyState === EventSource.CLOSED) {
        source = null;
        reopen(RETRY_MS);
      }
    });
  }

  async function start() {
    const read = await refresh();
    if (!window.EventSource) { // an old browser: read the ticket every 10 s instead
      setInterval(refresh, 10000);
      return;
    }
    hallq.text("refresh-note", "本页实时更新。");
    if (!read) setTimeout(start, 10000); // not readable now (no network, dispatcher away): try again
    else if (!ENDED.includes(ticket.status)) connect();
  }

  async function act(path, confirmText) {
    if (confirmText && !window.confirm(confirmText)) return;
    const msg = document.getElementById("action-msg");
    try {
      render(await hallq.call("POST", `${api}/${path}${q}`));
      msg.className = "ok";
      msg.textContent = path === "rejoin" ? "已重新排队" : "已取消排队";
    } catch (error) {
      msg.className = "error";
      msg.textContent = error.message;
    }
  }

  document.getElementById("rejoin").addEventListener("click", () => act("rejoin"));
  document.getElementById("cancel").addEventListener("click", () => act("cancel", "确定取消排队吗？"));
  hallq.hallName(hall, "hall");
  start();
})();
