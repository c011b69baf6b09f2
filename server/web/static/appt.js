"use strict";
(function () {
  const hall = location.pathname.split("/").filter(Boolean)[1];
  const api = `/api/v1/halls/${encodeURIComponent(hall)}`;
  const STEPS = ["step-service", "step-day", "step-slot", "step-form"];
  const chosen = { service: null, day: null, slot: null };
  let options = null;
  let requestKey = "";
  let lastRequest = "";
  const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);

  // The bookings made on this phone (their pages' links, with the key) so a citizen finds them again
  // without a screenshot; only on this device, only until their slot has passed.
  const MINE = `hallq.appointments.${hall}`;

  function mine() {
    try {
      const kept = JSON.parse(localStorage.getItem(MINE) || "[]");
      return kept.filter((b) => Date.parse(b.end) > Date.now());
    } catch (error) { return []; }
  }

  function remember(booking) {
    const kept = [{ url: booking.status_url, service: chosen.service.name, start: booking.start, end: booking.end },
      ...mine()].slice(0, 5);
    try { localStorage.setItem(MINE, JSON.stringify(kept)); } catch (error) { /* private mode: no list */ }
  }

  function showMine() {
    const kept = mine();
    document.getElementById("mine").hidden = !kept.length;
    document.getElementById("mine-list").replaceChildren(...kept.map((b) =>
      choice(b.service, hallqAppt.span(b.start, b.end), "查看 ›", () => { location.href = b.url; })));
  }

  function show(step) {
    for (const id of [...STEPS, "step-done"]) document.getElementById(id).hidden = id !== step;
    document.getElementById("mine").hidden = step !== "step-service" || !mine().length;
    document.querySelectorAll("#steps span").forEach((span, i) => span.classList.toggle("on", STEPS[i] === step));
    document.getElementById("steps").hidden = step === "step-done";
    window.scrollTo(0, 0);
  }

  function choice(main, sub, right, onClick, disabled) {
    const button = document.createElement("button");
    button.type = "button";
    const text = document.createElement("span");
    text.textContent = main;
    if (sub) {
      const small = document.createElement("div");
      small.className = "sub";
      small.textContent = sub;
      text.appendChild(small);
    }
    button.appendChild(text);
    if (right) {
      const left = document.createElement("span");
      left.className = "left";
      left.textContent = right;
      button.appendChild(left);
    }
    button.disabled = !!disabled;
    button.addEventListener("click", onClick);
    return button;
  }

  function slotsOf(day) {
    return hallq.call("GET", `${api}/services/${encodeURIComponent(chosen.service.code)}/slots?date=${day}`);
  }

  const placesLeft = (slots) => slots.reduce((sum, s) => sum + Math.max(0, s.capacity - s.booked), 0);

  async function pickService(service) {
    chosen.service = service;
    hallq.text("chosen-service", `业务：${service.name}`);
    const list = document.getElementById("days");
    list.replaceChildren();
    show("step-day");
    const days = [];
    for (let i = 0; i <= options.days_ahead; i += 1) days.push(hallqAppt.addDays(options.today, i));
    const found = await Promise.all(days.map((day) => slotsOf(day).catch(() => [])));
    days.forEach((day, i) => {
      const left = placesLeft(found[i]);
      const label = i === 0 ? `今天 ${hallqAppt.day(day)}` : i === 1 ? `明天 ${hallqAppt.day(day)}` : hallqAppt.day(day);
      const right = found[i].length === 0 ? "不可预约" : left === 0 ? "已约满" : `余${left}个`;
      list.appendChild(choice(label, "", right, () => pickDay(day, found[i]), left === 0));
    });
  }

  function pickDay(day, slots) {
    chosen.day = day;
    hallq.text("chosen-day", `${chosen.service.name} · ${hallqAppt.day(day)}`);
    const list = document.getElementById("slots");
    list.replaceChildren();
    for (const slot of slots) {
      const left = Math.max(0, slot.capacity - slot.booked);
      const time = `${hallqAppt.hhmm(slot.start)}–${hallqAppt.hhmm(slot.end)}`;
      list.appendChild(choice(time, "", left ? `余${left}个` : "已满", () => pickSlot(slot), left === 0));
    }
    show("step-slot");
  }

  function pickSlot(slot) {
    chosen.slot = slot;
    hallq.text("chosen-slot", `${chosen.service.name} · ${hallqAppt.span(slot.start, slot.end)}`);
    hallq.text("message", "");
    show("step-form");
    document.getElementById("id-number").focus();
  }

  async function submit(event) {
    event.preventDefault();
    const message = document.getElementById("message");
    const idNumber = document.getElementById("id-number").value.trim().toUpperCase();
    const phone = document.getElementById("phone").value.trim();
    if (!/^\d{17}[\dX]$/.test(idNumber)) {
      message.className = "error";
      message.textContent = "请填写18位身份证号码（最后一位可以是X）。";
      return;
    }
    if (!/^1[3-9]\d{9}$/.test(phone)) {
      message.className = "error";
      message.textContent = "请填写11位手机号码。";
      return;
    }
    const button = document.getElementById("submit");
    button.disabled = true;
    // one key per booking asked for: a retry after a lost answer gets the booking it made
    const same = JSON.stringify([chosen.slot.start, idNumber]);
    if (same !== lastRequest) [requestKey, lastRequest] = [newKey(), same];
    message.className = "muted";
    message.textContent = "正在提交…";
    try {
      const body = { service: chosen.service.code, start: chosen.slot.start, id_number: idNumber, phone };
      done(await hallq.call("POST", `${api}/appointments`, body, { "Idempotency-Key": requestKey }));
      document.getElementById("form").reset();
    } catch (error) {
      message.className = "error";
      message.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  }

  async function done(booking) {
    const key = new URL(booking.status_url, location.href).searchParams.get("k");
    const view = await hallq.call("GET", `${api}/appointments/${encodeURIComponent(booking.id)}?k=${encodeURIComponent(key)}`);
    hallqAppt.render(view, booking.status_url);
    remember(booking);
    document.getElementById("done-link").href = booking.status_url;
    show("step-done");
  }

  document.querySelectorAll("button.back").forEach((b) => b.addEventListener("click", () => show(b.dataset.to)));
  document.getElementById("form").addEventListener("submit", submit);

  (async function start() {
    try {
      options = await hallq.call("GET", `${api}/appointments/options`);
    } catch (error) {
      hallq.text("hall", "预约办事");
      document.getElementById("closed").hidden = false;
      hallq.text("closed", error.message);
      return;
    }
    hallq.text("hall", `${options.hall_name} · 预约办事`);
    if (!options.enabled) {
      document.getElementById("closed").hidden = false;
      document.getElementById("steps").hidden = true;
      return;
    }
    const list = document.getElementById("services");
    for (const service of options.services) {
      list.appendChild(choice(service.name, service.department, "›", () => pickService(service)));
    }
    showMine();
    show("step-service");
  })();
})();
