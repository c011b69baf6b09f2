// The supervisor's pages (/office/stats, /office/live): the same login and hall choice as /office, kept
// under the same sessionStorage keys, so a supervisor logged in at /office is logged in here too.
"use strict";
const staff = (function () {
  const ROLES = { clerk: "窗口工作人员", supervisor: "值班主任", admin: "系统管理员" };
  const KEYS = { token: "hallq.office.token", hall: "hallq.office.hall", user: "hallq.office.user" };
  const state = {
    token: sessionStorage.getItem(KEYS.token) || "",
    hall: sessionStorage.getItem(KEYS.hall) || "demo",
    user: JSON.parse(sessionStorage.getItem(KEYS.user) || "[]"),
  };
  let onReady = () => {};
  const el = (id) => document.getElementById(id);

  function make(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    Object.assign(node, attrs || {});
    return node;
  }

  // fetch with the login; a failure carries the API's sentence and the HTTP status
  async function api(method, path, body) {
    const options = { method, headers: { Authorization: `Bearer ${state.token}` } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let reply;
    try {
      reply = await fetch(path, options);
    } catch (error) {
      throw Object.assign(new Error("网络连接失败，请稍后再试"), { status: 0 });
    }
    if (!reply.ok) {
      let detail = "";
      try { detail = (await reply.json()).detail; } catch (error) { /* no JSON body */ }
      if (reply.status === 401) expired();
      throw Object.assign(new Error(detail || `请求失败（${reply.status}）`), { status: reply.status });
    }
    return reply;
  }

  async function json(method, path, body) {
    return (await api(method, path, body)).json();
  }

  async function loadHalls() {
    await hallq.loadHalls(el("hall"), state.hall);
  }


  function showUser() {
    const [name, role] = state.user;
    el("who").textContent = `${name || ""} · ${ROLES[role] || role || ""}`;
    el("logout").hidden = false;
  }

  function showLogin(message, ok) {
    el("login").hidden = false;
    el("page").hidden = true;
    el("logout").hidden = true;
    el("who").textContent = "";
    el("login-msg").textContent = message || "";
    el("login-msg").className = ok ? "ok" : "error";
  }

  function expired() {
    state.token = "";
    sessionStorage.removeItem(KEYS.token);
    showLogin("登录已失效，请重新登录");
  }

  // The chosen hall's zone, so its calendar and clock are the ones shown (the default where it cannot say).
  async function learnZone() {
    try {
      const info = await hallq.call("GET", `/api/v1/halls/${encodeURIComponent(state.hall)}`);
      if (info.timezone) hallq.zone = info.timezone;
    } catch (error) { /* the default zone */ }
  }

  // a clerk's login reaches the page but is told whose page it is (the API refuses them anyway)
  async function open() {
    showUser();
    if (!["supervisor", "admin"].includes(state.user[1])) {
      showLogin("本页面供值班主任和系统管理员使用，请用相应账号登录");
      el("logout").hidden = false;
      return;
    }
    await learnZone();
    el("login").hidden = true;
    el("page").hidden = false;
    onReady();
  }

  async function login() {
    state.hall = el("hall").value || "demo";
    try {
      const reply = await hallq.call("POST", "/api/v1/auth/login", { username: el("username").value.trim(), password: el("password").value });
      state.token = reply.access_token;
      state.user = [reply.display_name, reply.role];
      sessionStorage.setItem(KEYS.token, state.token);
      sessionStorage.setItem(KEYS.hall, state.hall);
      sessionStorage.setItem(KEYS.user, JSON.stringify(state.user));
      el("password").value = "";
      el("login-msg").textContent = "";
      open();
    } catch (error) {
      el("login-msg").textContent = error.message;
      el("login-msg").className = "error";
    }
  }

  async function logout() {
    try { await api("POST", "/api/v1/auth/logout"); } catch (error) { /* gone anyway */ }
    state.token = "";
    sessionStorage.removeItem(KEYS.token);
    sessionStorage.removeItem(KEYS.user);
    showLogin("已退出登录", true);
  }

  function start(ready) {
    onReady = ready;
    el("login-button").addEventListener("click", login);
    el("logout").addEventListener("click", logout);
    el("password").addEventListener("keydown", (event) => { if (event.key === "Enter") login(); });
    loadHalls();
    if (state.token) open(); else showLogin("");
  }

  // The date range of the numbers pages (#from, #to), on the hall's calendar: this month, today, the
  // last 7 days, last month.
  function setRange(kind) {
    const [y, m, d] = hallq.today().split("-").map(Number);
    let from = hallq.day(y, m, 1);
    let to = hallq.day(y, m, d);
    if (kind === "today") from = to;
    if (kind === "week") from = hallq.day(y, m, d - 6);
    if (kind === "last-month") {
      from = hallq.day(y, m - 1, 1);
      to = hallq.day(y, m, 0);
    }
    el("from").value = from;
    el("to").value = to;
  }

  // The month pickers of the reports: the hall's month and the eleven before it.
  function fillMonths(select) {
    for (const { value, label } of hallq.monthsBack(12)) select.append(make("option", label, { value }));
  }

  return {
    state, api, json, make, start, setRange, fillMonths,
    base: () => `/api/v1/halls/${encodeURIComponent(state.hall)}`,
    hallName: () => el("hall").selectedOptions.length ? el("hall").selectedOptions[0].textContent : state.hall,
  };
})();
