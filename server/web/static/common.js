// Shared by the pages: reading the path and key, calling the API, showing its {detail} sentences.
"use strict";
const hallq = {
  // Times are shown in the hall's zone (from GET /halls/{hall}), never the browser's: a hall PC or a
  // phone set to another zone must still show the hall's clock.
  zone: "Asia/Shanghai",
  parts() {
    const segments = location.pathname.split("/").filter(Boolean);
    return { hall: segments[1], id: segments[2], key: new URLSearchParams(location.search).get("k") || "" };
  },
  async call(method, url, body, headers) {
    const options = { method, headers: Object.assign({}, headers || {}) };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let reply;
    try {
      reply = await fetch(url, options);
    } catch (error) {
      throw new Error("网络连接失败，请稍后再试");
    }
    const text = await reply.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (error) { data = null; }
    if (!reply.ok) {
      throw new Error((data && data.detail) || ("请求失败（" + reply.status + "）"));
    }
    return data;
  },
  text(id, value) { document.getElementById(id).textContent = value; },
  async hallName(hall, elementId) {
    try {
      const info = await hallq.call("GET", `/api/v1/halls/${encodeURIComponent(hall)}`);
      hallq.text(elementId, info.name);
      if (info.timezone) hallq.zone = info.timezone;
    } catch (error) { /* the page works without the hall's name */ }
  },
  // Fills a staff page's hall list with the halls this dispatcher serves (GET /health), each by its
  // name, and chooses `current` where it is one of them. The list stays aria-busy until it is filled,
  // so a person (and a test) can tell the placeholder from the answer.
  async loadHalls(select, current) {
    const make = (id, label) => Object.assign(document.createElement("option"), { value: id, textContent: label });
    try {
      const health = await hallq.call("GET", "/api/v1/health");
      const ids = Object.keys(health.halls || {}).sort();
      const options = await Promise.all(ids.map(async (id) => {
        let name = id;
        try { name = (await hallq.call("GET", `/api/v1/halls/${encodeURIComponent(id)}`)).name || id; } catch (error) { /* id alone */ }
        return make(id, name === id ? id : `${name}（${id}）`);
      }));
      if (options.length) select.replaceChildren(...options);
    } catch (error) {
      select.replaceChildren(make(current, current));
    }
    select.value = [...select.options].some((o) => o.value === current) ? current : select.options[0].value;
    select.removeAttribute("aria-busy");
  },
  // The hall's calendar (YYYY-MM-DD), never the browser's: a PC or phone whose clock is set to another
  // zone still counts the hall's "today" and "this month" (at 00:30 in Beijing a UTC clock says yesterday).
  dayOf(date) {
    const format = (zone) => new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" });
    let parts;
    try { parts = format(hallq.zone).formatToParts(date); } catch (error) { parts = format(undefined).formatToParts(date); }
    const part = (type) => parts.find((p) => p.type === type).value;
    return `${part("year")}-${part("month")}-${part("day")}`;
  },
  today() { return hallq.dayOf(new Date()); },
  // A day from a year, a month (1–12) and a day of the month that may run over: day 0 is the last day
  // of the month before, month 0 is December of the year before.
  day(year, month, date) { return new Date(Date.UTC(year, month - 1, date)).toISOString().slice(0, 10); },
  // The hall's month and the `count - 1` before it, newest first: [{value: "2026-12", label: "2026年12月"}].
  monthsBack(count) {
    const [year, month] = hallq.today().split("-").map(Number);
    return Array.from({ length: count }, (_, back) => {
      const value = hallq.day(year, month - back, 1).slice(0, 7);
      return { value, label: `${value.slice(0, 4)}年${Number(value.slice(5))}月` };
    });
  },
  minutes(seconds) { return Math.max(1, Math.round((seconds || 0) / 60)); },
  time(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    try {
      return d.toLocaleString("zh-CN", { hour12: false, timeZone: hallq.zone });
    } catch (error) {  // a zone this browser does not know
      return d.toLocaleString("zh-CN", { hour12: false });
    }
  },
};
