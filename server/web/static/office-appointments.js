"use strict";
// 预约 on the office page: a tab with a day's bookings (time, service, code, state, masked phone).
// It joins the page on its own (office.html loads it with one line): it adds its tab when the desk's
// tabs appear, reads the login the page keeps in sessionStorage, and hides itself when another tab
// is chosen. Reads only through the API (GET /halls/{hall}/appointments?date=, staff logins).
(function () {
  const STATUS_CLASS = { booked: "", checked_in: "ok", cancelled: "muted", no_show: "warn" };
  const el = (id) => document.getElementById(id);
  const hall = () => sessionStorage.getItem("hallq.office.hall") || "demo";
  const base = () => `/api/v1/halls/${encodeURIComponent(hall())}`;
  const auth = () => ({ Authorization: `Bearer ${sessionStorage.getItem("hallq.office.token") || ""}` });

  function make(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    return Object.assign(node, attrs || {});
  }

  function desk() {
    let box = el("appointments-desk");
    if (box) return box;
    box = make("div", undefined, { id: "appointments-desk", className: "card", hidden: true });
    const day = make("input", undefined, { id: "appointments-day", type: "date" });
    day.addEventListener("change", load);
    const bar = make("div", undefined, { className: "summary-bar" });
    bar.append(make("h3", "预约名单"), make("label", "日期 "), day, make("span", "", { id: "appointments-counts", className: "muted" }));
    const table = make("table");
    const head = make("tr");
    ["时段", "业务", "预约码", "状态", "手机（部分）"].forEach((t) => head.append(make("th", t)));
    table.append(make("thead"), make("tbody", undefined, { id: "appointments-list" }));
    table.tHead.append(head);
    box.append(bar, table, make("div", "", { id: "appointments-msg", className: "muted" }));
    el("desk").append(box);
    return box;
  }

  function role() {
    try { return JSON.parse(sessionStorage.getItem("hallq.office.user") || "[]")[1] || ""; } catch (error) { return ""; }
  }

  // Its own row under the desk's tabs: office.js counts every button in #tabs as one of its own.
  // Bookings are the front desk's: a department's back-office login gets no tab (the API says 403 too).
  function addTab() {
    const tabs = el("tabs");
    if (role() === "department") {
      if (el("appointments-tab")) el("appointments-tab").remove();
      if (el("appointments-desk")) el("appointments-desk").hidden = true;
      return;
    }
    if (!tabs || !tabs.children.length || el("appointments-tab")) return;
    const nav = make("nav", undefined, { id: "appointments-tab" });
    const tab = make("button", "预约名单");
    tab.addEventListener("click", show);
    nav.append(tab);
    tabs.after(nav);
  }

  function select(on) {
    const tab = el("appointments-tab");
    if (tab) tab.querySelector("button").classList.toggle("on", on);
    if (on) el("tabs").querySelectorAll("button").forEach((b) => b.classList.remove("on"));
  }

  async function show() {
    select(true);
    for (const id of ["cases-desk", "ratings-desk", "calendar-note"]) if (el(id)) el(id).hidden = true;
    desk().hidden = false;
    const day = el("appointments-day");
    if (!day.value) {
      let today;
      try {
        today = (await hallq.call("GET", `${base()}/appointments/options`)).today;
      } catch (error) {
        today = hallq.today();
      }
      if (day.value) return;  // a day was chosen meanwhile: its own change event loads it
      day.value = today;
    }
    await load();
  }

  function hhmm(iso) { return iso.slice(11, 16); }

  let asked = 0;  // the latest load: an answer for a day no longer shown is dropped

  async function load() {
    const msg = el("appointments-msg");
    const mine = ++asked;
    try {
      const list = await hallq.call("GET", `${base()}/appointments?date=${el("appointments-day").value}`, undefined, auth());
      if (mine !== asked) return;
      el("appointments-list").replaceChildren(...list.map((a) => {
        const tr = make("tr");
        tr.append(make("td", `${hhmm(a.start)}–${hhmm(a.end)}`), make("td", a.service_name), make("td", a.code),
          make("td", a.status_label, { className: STATUS_CLASS[a.status] || "" }), make("td", a.masked_phone));
        return tr;
      }));
      const counts = {};
      list.forEach((a) => { counts[a.status_label] = (counts[a.status_label] || 0) + 1; });
      el("appointments-counts").textContent = Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(" · ");
      msg.textContent = list.length ? "" : "当天没有预约";
      msg.className = "muted";
    } catch (error) {
      if (mine !== asked) return;
      msg.textContent = error.message;
      msg.className = "error";
    }
  }

  document.addEventListener("click", (event) => {
    const tab = event.target.closest && event.target.closest("#tabs button");
    if (tab && el("appointments-desk")) {
      el("appointments-desk").hidden = true;
      select(false);
    }
  }, true);
  new MutationObserver(addTab).observe(document.body, { childList: true, subtree: true });
})();
