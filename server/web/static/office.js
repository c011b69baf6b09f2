"use strict";
(function () {
  const TABS = [
    ["prereview", "网上预审"], ["prereview_fix", "预审补正中"], ["prereviewed", "预审通过"],
    ["received", "待受理"], ["pending", "等待前置"], ["correction", "补正中"], ["accepted", "审批中"], ["approved", "待出件(准予)"],
    ["rejected", "待出件(不予)"], ["result_sent", "结果待核验"], ["result_refused", "结果退回"], ["ready", "待领取"],
    ["posted", "已邮寄"], ["delivered", "已送达"], ["receipt_returned", "回执已交回"], ["forwarded", "已转报"],
    ["overdue", "已超期"], ["due_soon", "即将到期"], ["archived", "已归档"],
  ];
  // the office's own words for a few steps; the steps open to a case come from the dispatcher (next_actions)
  const LABELS = {
    ready: "出件（窗口领取）", post: "出件（邮寄）", correct: "补正告知", fix_prereview: "预审补正告知（勾选材料）",
    deliver: { ready: "送达（已领取）", posted: "送达（回执已签收）" },
  };
  const DESKS = { window: "综合受理窗口", department: "业务部门", output: "综合出件窗口" };
  const OVERDUE = { prereview: "网上预审", accept: "受理", decide: "办结", deferred: "容缺补交", handover: "材料交接", result_fix: "结果更正", receipt: "送达回执" };
  const MATERIAL = { provided: "已提交", deferred: "容缺", missing: "缺" };
  const ROLES = { clerk: "窗口工作人员", supervisor: "值班主任", admin: "系统管理员", department: "部门审批人员" };
  const LIST_LIMIT = 200; // what GET /cases answers at most: a count that reaches it is shown as 200+
  const state = { token: sessionStorage.getItem("hallq.office.token") || "", hall: sessionStorage.getItem("hallq.office.hall") || "demo", tab: "received", selected: null, unknownYears: [], role: "" };
  const auth = () => ({ Authorization: `Bearer ${state.token}` });
  const base = () => `/api/v1/halls/${encodeURIComponent(state.hall)}`;
  const el = (id) => document.getElementById(id);

  function make(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    Object.assign(node, attrs || {});
    return node;
  }

  async function loadHalls() {
    await hallq.loadHalls(el("hall"), state.hall);
  }

  // The office login takes no window: a clerk sees the 好差评 about them (office-ratings.js) while their
  // window terminal stays logged in. The page's old window choice is hidden and never sent.
  function noWindowChoice() {
    const choice = el("login-window").closest("label");
    choice.hidden = true;
    const hint = choice.nextElementSibling;
    if (hint && hint.classList.contains("muted")) {
      hint.textContent = "窗口工作人员用本人账号登录，即可查看和处理关于本人的好差评；不影响窗口终端的登录。";
    }
  }

  function showUser(name, role) {
    state.role = role;
    el("who").textContent = `${name || ""} · ${ROLES[role] || role}`;
    el("logout").hidden = false;
  }

  async function logout() {
    try { await hallq.call("POST", "/api/v1/auth/logout", undefined, auth()); } catch (error) { /* gone anyway */ }
    state.token = "";
    sessionStorage.removeItem("hallq.office.token");
    sessionStorage.removeItem("hallq.office.user");
    el("who").textContent = "";
    el("logout").hidden = true;
    el("desk").hidden = true;
    el("login").hidden = false;
    el("password").value = "";
    el("login-msg").textContent = "已退出登录";
    el("login-msg").className = "ok";
  }

  async function login() {
    state.hall = el("hall").value || "demo";
    try {
      const body = { username: el("username").value.trim(), password: el("password").value };
      const reply = await hallq.call("POST", "/api/v1/auth/login", body);
      state.token = reply.access_token;
      sessionStorage.setItem("hallq.office.token", state.token);
      sessionStorage.setItem("hallq.office.hall", state.hall);
      sessionStorage.setItem("hallq.office.user", JSON.stringify([reply.display_name, reply.role]));
      showUser(reply.display_name, reply.role);
      el("login-msg").textContent = "";
      el("login-msg").className = "error";
      await openDesk();
    } catch (error) {
      el("login-msg").textContent = error.message;
    }
  }

  async function openDesk() {
    el("login").hidden = true;
    el("desk").hidden = false;
    el("tabs").replaceChildren(...TABS.map(([key, label]) => {
      const b = make("button", label);
      b.append(make("span", "…", { className: "count" }));
      b.dataset.tab = key;
      b.addEventListener("click", () => { showCases(); state.tab = key; loadList(); });
      return b;
    }));
    showCases();
    if (window.hallqRatings && state.role !== "department") hallqRatings.attach({ auth, base, make, handle });
    if (window.hallqDesks) hallqDesks.attach({ auth, base, make, handle, role: () => state.role, openCase, showCases });
    await loadList();
  }

  function showCases() {
    el("cases-desk").hidden = false;
    if (window.hallqRatings) hallqRatings.hide();
    if (window.hallqDesks) hallqDesks.hide();
  }

  async function loadList() {
    el("tabs").querySelectorAll("button").forEach((b) => b.classList.toggle("on", b.dataset.tab === state.tab));
    const query = ["overdue", "due_soon"].includes(state.tab) ? `flag=${state.tab}` : `status=${state.tab}`;
    try {
      const [data, all] = await Promise.all([
        hallq.call("GET", `${base()}/cases?${query}`, undefined, auth()),
        hallq.call("GET", `${base()}/cases`, undefined, auth()),
      ]);
      state.unknownYears = [...new Set([...data.unknown_calendar_years, ...all.unknown_calendar_years])].map(String);
      showCounts(all.cases);
      showCalendarNote();
      el("list-msg").textContent = data.cases.length ? "" : "没有办件";
      el("list-msg").className = "muted";
      el("list").replaceChildren(...data.cases.map(row));
    } catch (error) {
      handle(error, "list-msg");
    }
  }

  function showCounts(cases) {
    const counts = {};
    cases.forEach((c) => {
      counts[c.status] = (counts[c.status] || 0) + 1;
      if (c.overdue.length) counts.overdue = (counts.overdue || 0) + 1;
      if (c.due_soon) counts.due_soon = (counts.due_soon || 0) + 1;
    });
    const capped = cases.length >= LIST_LIMIT ? "+" : "";
    el("tabs").querySelectorAll("button").forEach((b) => {
      const count = counts[b.dataset.tab] || 0;
      const badge = b.querySelector(".count");
      if (!badge) return; // the desks' tabs (窗口收件, 材料交接) count nothing
      badge.textContent = `${count}${count ? capped : ""}`;
      badge.classList.toggle("alert", count > 0 && b.dataset.tab === "overdue");
    });
  }

  function showCalendarNote() {
    const note = el("calendar-note");
    note.hidden = !state.unknownYears.length;
    note.textContent = state.unknownYears.length
      ? `${state.unknownYears.join("、")}年的法定节假日尚未配置：落在该年的期限只按周末计算，标为“暂定”，请在大厅配置中补充该年的节假日和调休后再向群众承诺。`
      : "";
  }

  // A deadline in a year whose holidays are not configured cannot be promised: marked provisional.
  function deadline(day, empty) {
    if (!day) return empty;
    return state.unknownYears.includes(day.slice(0, 4)) ? `${day}（暂定：${day.slice(0, 4)}年节假日未配置）` : day;
  }

  function row(c) {
    const tr = make("tr", undefined, { className: "case" });
    tr.dataset.id = c.id;
    tr.append(make("td", c.receipt_no || "—"), make("td", c.item_name));
    const status = make("td", c.status_label);
    const due = c.deadlines && (c.deadlines.decide_due || c.deadlines.accept_due);
    if (due && state.unknownYears.includes(due.slice(0, 4))) status.append(make("span", "期限暂定", { className: "badge soon" }));
    if (c.overdue.length) status.append(make("span", "超期", { className: "badge overdue" }));
    else if (c.due_soon) status.append(make("span", "将到期", { className: "badge soon" }));
    tr.append(status);
    tr.addEventListener("click", () => openCase(c.id));
    return tr;
  }

  function handle(error, target) {
    if (/401|登录|Unauthorized|token/i.test(error.message)) {
      sessionStorage.removeItem("hallq.office.token");
      el("login").hidden = false;
      el("desk").hidden = true;
      el("logout").hidden = true;
      el("who").textContent = "";
      el("login-msg").textContent = "登录已失效，请重新登录";
      return;
    }
    el(target).textContent = error.message;
    el(target).className = "error";
  }

  async function openCase(id) {
    state.selected = id;
    document.querySelectorAll("tr.case").forEach((tr) => tr.classList.toggle("on", tr.dataset.id === id));
    try {
      renderCase(await hallq.call("GET", `${base()}/cases/${id}`, undefined, auth()));
    } catch (error) {
      el("detail").replaceChildren(make("div", error.message, { className: "error" }));
    }
  }

  function renderCase(c) {
    const box = el("detail");
    box.replaceChildren();
    box.append(make("h3", `${c.receipt_no || "（草稿）"} ${c.item_name}`));
    const late = c.overdue.map((f) => OVERDUE[f] || f).join("、");
    const facts = [["状态", c.status_label + (late ? `（超期：${late}）` : "")],
      ["部门", c.department], ["申请人", `${c.masked_name} ${c.masked_id}`], ["联系电话", c.phone || "—"],
      ["受理期限", deadline(c.deadlines.accept_due, "—")], ["办结期限", deadline(c.deadlines.decide_due, "受理后计算")],
      ["原件存放", c.locker_slot ? `${c.locker_slot} 号柜` : "—"]];
    if (c.deadlines.deferred_due || c.materials.some((m) => m.status === "deferred")) {
      facts.splice(6, 0, ["容缺补交期限", deadline(c.deadlines.deferred_due, "受理后起算")]);
    }
    if (c.deadlines.prereview_due) facts.push(["预审期限", deadline(c.deadlines.prereview_due, "—")]);
    if (c.prereview_rounds) facts.push(["网上预审", `提交 ${c.prereview_rounds} 次${c.times.prereviewed_at ? "，" + hallq.time(c.times.prereviewed_at) + " 预审通过" : ""}`]);
    if (c.agency) facts.push(["代办", `${c.agency.point} 代办员${c.agency.agent}（${hallq.time(c.agency.consent_at)} 签代办委托书）`]);
    if (c.received_window) facts.push(["收件窗口", `${c.received_window}号窗口`]);
    if (c.handover) facts.push(["材料交接", paper(c.handover)]);
    if (c.deadlines.result_fix_due) facts.push(["结果更正期限", deadline(c.deadlines.result_fix_due, "—")]);
    if (c.deadlines.receipt_due) facts.push(["回执交回期限", deadline(c.deadlines.receipt_due, "—")]);
    if (c.next_desk && c.next_desk.length) facts.push(["下一步办理", c.next_desk.join("、")]);
    if (c.tracking_no) facts.push(["邮件单号", c.tracking_no]);
    if (c.decision_note) facts.push(["审批意见", c.decision_note]);
    facts.forEach(([k, v]) => {
      const r = make("div", undefined, { className: "row" });
      r.append(make("span", k), make("span", v));
      box.append(r);
    });
    box.append(make("h4", "材料"));
    c.materials.forEach((m) => {
      const line = make("label");
      const check = make("input", undefined, { type: "checkbox", value: String(m.idx) });
      check.className = "material-check";
      line.append(check, document.createTextNode(` ${m.name}（${m.form === "original" ? "原件" : "复印件"}${m.copies}份）：${MATERIAL[m.status] || m.status} `));
      m.files.forEach((f, i) => {
        const link = make("a", `文件${i + 1}`, { href: "#" });
        link.addEventListener("click", (event) => { event.preventDefault(); openFile(c.id, f); });
        line.append(link, document.createTextNode(" "));
      });
      box.append(line);
    });
    const actions = (c.next_actions || []).filter((a) => mayTake(a, c)).map((a) => [a.action, label(a, c)]);
    if (actions.length) {
      box.append(make("h4", "办理"));
      const note = make("textarea", undefined, { id: "note", rows: 2, placeholder: "意见 / 补正说明 / 不予批准理由" });
      note.style.width = "100%";
      const tracking = make("input", undefined, { id: "tracking", placeholder: "邮件单号（邮寄时填写）" });
      box.append(note, tracking);
      const bar = make("div", undefined, { className: "actions" });
      actions.forEach(([action, label]) => {
        const b = make("button", label);
        b.dataset.action = action;
        b.addEventListener("click", () => act(c.id, action));
        bar.append(b);
      });
      box.append(bar);
    }
    if (c.status === "received" && c.channel !== "forward") {
      const slot = make("div");
      box.append(slot);
      forwardBox(slot, c.id); // filled once the hall list arrives, in its place above the history
    }
    box.append(make("div", "", { id: "action-msg" }));
    if (c.bundle_id) box.append(make("div", undefined, { id: "bundle" }));
    box.append(make("h4", "办理过程"));
    const ol = make("ol", undefined, { className: "timeline" });
    c.history.forEach((h) => ol.append(make("li", `${hallq.time(h.at)} ${h.label} — ${h.actor}${h.note ? "：" + h.note : ""}`)));
    box.append(ol);
    if (c.bundle_id) showBundle(c.bundle_id);
  }

  // A part of a 一件事: every part's state, and the output window hands them out together.
  async function showBundle(bundleId) {
    try {
      const b = await hallq.call("GET", `${base()}/bundles/${bundleId}`, undefined, auth());
      const box = el("bundle");
      if (!box) return;
      box.replaceChildren(make("h4", `一件事：${b.name}（${b.receipt_no}，承诺 ${b.promised_due} 前办结）`));
      b.parts.forEach((p) => {
        const r = make("div", undefined, { className: "row" });
        r.append(make("span", `${p.item_name}（${p.department}）${p.after.length ? "·后置" : ""}`), make("span", p.status_label));
        box.append(r);
      });
      if (state.role === "department") return;
      const allReady = b.parts.every((p) => ["ready", "abandoned"].includes(p.status));
      const step = b.ready_to_hand_out ? ["ready", "一件事出件（窗口领取）"] : allReady ? ["deliver", "一件事送达（已领取）"] : null;
      if (!step) return;
      const button = make("button", step[1]);
      button.dataset.bundleAction = step[0];
      button.addEventListener("click", async () => {
        try {
          await hallq.call("POST", `${base()}/bundles/${bundleId}/actions/${step[0]}`, {}, auth());
          await loadList();
          await openCase(state.selected);
          el("action-msg").textContent = "已办理";
          el("action-msg").className = "ok";
        } catch (error) {
          handle(error, "action-msg");
        }
      });
      box.append(button);
    } catch (error) {
      handle(error, "action-msg");
    }
  }

  // The steps this login takes (the dispatcher refuses the others too): a department's staff their
  // department's steps, a window clerk the windows' steps (and a department's where it decides at the window).
  function mayTake(step, c) {
    if (c.bundle_id && ["ready", "post", "deliver"].includes(step.action)) return false; // the 一件事 as one
    if (state.role === "department") return step.desk === "department";
    if (state.role === "clerk") return step.desk !== "department" || !c.back_office;
    return true;
  }

  function label(step, c) {
    const own = LABELS[step.action];
    if (typeof own === "object") return own[c.status] || step.label;
    return own || step.label;
  }

  function paper(h) {
    const due = `${hallq.time(h.due_at)}前送达`;
    if (h.signed_at) return `${hallq.time(h.signed_at)} 部门已签收${h.late ? "（逾期交接）" : ""}；应${due}`;
    return `待交接，应${due}${h.late ? "（已逾期）" : ""}`;
  }

  // 转报: a received case to the hall that decides its item (the halls registered at the city's hub)
  async function forwardBox(box, caseId) {
    const halls = await hallq.call("GET", `${base()}/forward-targets`, undefined, auth()).catch(() => []);
    if (!halls.length) return;
    const pick = make("select", undefined, { id: "forward-to" });
    halls.forEach((h) => pick.append(make("option", h.name, { value: h.hall })));
    const send = make("button", "转报");
    send.addEventListener("click", async () => {
      try {
        renderCase(await hallq.call("POST", `${base()}/cases/${caseId}/forward`, { to_hall: pick.value }, auth()));
        el("action-msg").textContent = "已转报";
        el("action-msg").className = "ok";
        await loadList();
      } catch (error) {
        handle(error, "action-msg");
      }
    });
    const bar = make("div", undefined, { className: "actions" });
    bar.append(document.createTextNode("转报至 "), pick, send);
    box.append(bar);
  }

  async function openFile(caseId, file) {
    const reply = await fetch(`${base()}/cases/${caseId}/files/${file.sha256}`, { headers: auth() });
    if (!reply.ok) { el("action-msg").textContent = "无法打开文件"; return; }
    window.open(URL.createObjectURL(await reply.blob()), "_blank");
  }

  async function act(caseId, action) {
    const body = { note: (el("note") || {}).value || "", tracking_no: (el("tracking") || {}).value || "",
      materials: [...document.querySelectorAll(".material-check:checked")].map((x) => Number(x.value)) };
    try {
      renderCase(await hallq.call("POST", `${base()}/cases/${caseId}/actions/${action}`, body, auth()));
      el("action-msg").textContent = "已办理";
      el("action-msg").className = "ok";
      await loadList();
    } catch (error) {
      handle(error, "action-msg");
    }
  }

  el("login-button").addEventListener("click", login);
  noWindowChoice();
  el("logout").addEventListener("click", logout);
  el("password").addEventListener("keydown", (event) => { if (event.key === "Enter") login(); });
  loadHalls();
  if (state.token) {
    const [name, role] = JSON.parse(sessionStorage.getItem("hallq.office.user") || "[]");
    if (role) showUser(name, role);
    openDesk();
  }
})();
