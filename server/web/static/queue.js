// 线上取号: the services open now (GET /halls/{hall}), then the ID number and an optional mobile for the SMS;
// POST /halls/{hall}/phone-tickets, then the ticket's own page, which follows the place in line live.
"use strict";
(function () {
  const hall = location.pathname.split("/").filter(Boolean)[1];
  const api = `/api/v1/halls/${encodeURIComponent(hall)}`;
  const el = (id) => document.getElementById(id);
  const ID_NUMBER = /^\d{17}[\dXx]$/;
  const MOBILE = /^1[3-9]\d{9}$/;
  let chosen = null;
  let key = null;  // one Idempotency-Key per ticket asked for: a retry after a lost answer gets that ticket

  function serviceButton(s) {
    const button = document.createElement("button");
    const name = document.createElement("span");
    name.textContent = s.name;
    const left = document.createElement("span");
    left.className = "left";
    left.textContent = s.open_now ? `等候 ${s.waiting} 人` : "暂停取号";
    button.append(name, left);
    button.disabled = !s.open_now;
    button.addEventListener("click", () => choose(s));
    return button;
  }

  async function load() {
    try {
      const info = await hallq.call("GET", api);
      hallq.text("hall", `${info.name} · 线上取号`);
      el("services").replaceChildren(...info.services.map(serviceButton));
      if (!info.services.some((s) => s.open_now)) hallq.text("pick-msg", "现在不在取号时间，请在办公时间内再来。");
    } catch (error) {
      hallq.text("pick-msg", error.message);
    }
  }

  function choose(service) {
    chosen = service;
    key = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
    hallq.text("chosen", `${service.name}（前面 ${service.waiting} 人）`);
    hallq.text("message", "");
    el("pick").hidden = true;
    el("who").hidden = false;
    el("id-number").focus();
  }

  async function take() {
    const idNumber = el("id-number").value.trim().toUpperCase();
    const phone = el("phone").value.trim();
    if (!ID_NUMBER.test(idNumber)) return hallq.text("message", "请输入18位身份证号码（最后一位可以是X）。");
    if (phone && !MOBILE.test(phone)) return hallq.text("message", "手机号码应为11位，以1开头。");
    el("take").disabled = true;
    hallq.text("message", "");
    try {
      const body = { service: chosen.code, id_number: idNumber };
      if (phone) body.notify_phone = phone;
      const ticket = await hallq.call("POST", `${api}/phone-tickets`, body, { "Idempotency-Key": key });
      location.assign(new URL(ticket.status_url).pathname + new URL(ticket.status_url).search);
    } catch (error) {
      hallq.text("message", error.message);  // what was typed stays: correct it and press 取号 again
      el("take").disabled = false;
    }
  }

  el("back").addEventListener("click", () => { el("who").hidden = true; el("pick").hidden = false; });
  el("take").addEventListener("click", take);
  load();
})();
