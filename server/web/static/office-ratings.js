"use strict";
// 好差评 on the office page: the rectification orders (整改单) by state, each order's rating, facts,
// deadlines and history with the steps this login may take, and the month's numbers (考核).
// Reads and acts only through the API: what a clerk sees is what the API gives them (the orders about them).
(function () {
  const FILTERS = [
    ["open", "待核实"], ["verified", "已核实"], ["rectified", "已整改"], ["escalated", "已提级"],
    ["appealed", "申诉中"], ["closed", "已办结"], ["upheld", "申诉成立"], ["due_soon", "即将到期"],
    ["overdue", "已超期"], ["all", "全部"],
  ];
  const PENDING = ["open", "verified", "rectified", "appealed", "escalated"];
  const CHANNELS = { web: "网页", app: "移动端", qr: "扫码评价", evaluator: "评价器", terminal: "窗口终端", kiosk: "自助终端" };
  const ROLES = { clerk: "窗口工作人员", supervisor: "值班主任", admin: "管理员", system: "系统" };
  const BY = [["window", "按窗口"], ["clerk", "按工作人员"], ["service", "按事项"], ["hall", "全厅"]];
  const LIST_LIMIT = 500; // what GET /rectifications answers at most: a count that reaches it is shown as 500+
  const SUPERVISORS = ["supervisor", "admin"];
  const EVERYONE = ["clerk", "supervisor", "admin"];
  // The forms a status offers, with who may use them (the rated window's clerk appeals and records
  // 整改; 核实, 回访 and the appeal's decision are a supervisor's; an escalated order is the head's).
  const FORMS = {
    open: [
      { title: "核实", roles: SUPERVISORS, field: ["facts", "核实情况", "调取录像、询问当事人后查明的事实"], buttons: [["verify", "提交核实"]] },
      { title: "申诉", roles: EVERYONE, field: ["reason", "申诉理由", "误评或恶意差评的理由与依据"], buttons: [["appeal", "提出申诉"]] },
    ],
    verified: [{ title: "整改", roles: EVERYONE, field: ["measures", "整改措施", "已采取的整改措施"], buttons: [["rectify", "提交整改"]] }],
    rectified: [{ title: "回访", roles: SUPERVISORS, field: ["note", "回访记录", "回访时群众的意见"], optional: true, choice: true, buttons: [["call-back", "记录回访"]] }],
    appealed: [{ title: "申诉审核", roles: SUPERVISORS, field: ["reason", "审核意见", "审核申诉的理由"], notAppellant: true,
      buttons: [["uphold", "申诉成立"], ["reject", "驳回申诉"]] }],
    escalated: [{ title: "提级结案", roles: ["admin"], field: ["note", "处理决定", "大厅负责人的处理决定"], buttons: [["close", "结案"]] }],
  };
  const rs = { me: null, filter: "open", selected: null, drafts: {}, windows: {} };
  const latest = { orders: 0, summary: 0 }; // an answer to an older request is dropped, not shown
  let office = null;
  const el = (id) => document.getElementById(id);
  const make = (...args) => office.make(...args);
  const call = (method, path, body) => hallq.call(method, `${office.base()}${path}`, body, office.auth());

  function attach(context) {
    office = context;
    Object.assign(rs, { me: null, filter: "open", selected: null, drafts: {}, windows: {} });
    const tab = make("button", "好差评");
    tab.dataset.tab = "ratings";
    tab.append(make("span", "…", { className: "count", id: "ratings-count" }));
    tab.addEventListener("click", show);
    el("tabs").append(tab);
    buildDesk();
    loadMe().then(refreshOrders);
  }

  async function loadMe() {
    try {
      const [hall, me] = await Promise.all([call("GET", ""), hallq.call("GET", "/api/v1/auth/me", undefined, office.auth())]);
      hall.windows.forEach((w) => { rs.windows[w.id] = w.name; });
      rs.me = me;
    } catch (error) {
      office.handle(error, "ratings-msg");
    }
  }

  function show() {
    el("tabs").querySelectorAll("button").forEach((b) => b.classList.toggle("on", b.dataset.tab === "ratings"));
    el("cases-desk").hidden = true;
    el("calendar-note").hidden = true;
    el("ratings-desk").hidden = false;
    loadSummary();
    refreshOrders();
  }

  function hide() { el("ratings-desk").hidden = true; }

  function buildDesk() {
    const desk = el("ratings-desk");
    const summary = make("div", undefined, { className: "card", id: "rating-summary" });
    const month = make("select", undefined, { id: "summary-month" }); // filled from the hall's month
    const by = make("select", undefined, { id: "summary-by" });
    BY.forEach(([value, label]) => by.append(make("option", label, { value })));
    month.addEventListener("change", loadSummary);
    by.addEventListener("change", loadSummary);
    const bar = make("div", undefined, { className: "summary-bar" });
    bar.append(make("h3", "月度好差评统计"), make("label", "月份 "), by);
    bar.querySelector("label").append(month);
    summary.append(bar, make("div", "", { id: "summary-table" }), make("div", "", { id: "summary-msg", className: "muted" }));
    const filters = make("nav", undefined, { id: "rating-filters" });
    FILTERS.forEach(([key, label]) => {
      const b = make("button", label);
      b.dataset.filter = key;
      b.append(make("span", "…", { className: "count" }));
      b.addEventListener("click", () => { rs.filter = key; refreshOrders(); });
      filters.append(b);
    });
    const layout = make("div", undefined, { className: "layout" });
    const list = make("div", undefined, { className: "card" });
    list.innerHTML = "<table><thead><tr><th>办件编号</th><th>评价</th><th>窗口</th><th>状态</th></tr></thead><tbody id=\"rating-list\"></tbody></table>";
    list.append(make("div", "", { id: "ratings-msg", className: "muted" }));
    const detail = make("div", undefined, { className: "card", id: "rating-detail" });
    detail.append(make("div", "请选择左侧的整改单", { className: "muted" }));
    layout.append(list, detail);
    desk.replaceChildren(summary, filters, layout);
  }

  // ---- the lists -------------------------------------------------------------------------------

  async function refreshOrders() {
    el("rating-filters").querySelectorAll("button").forEach((b) => b.classList.toggle("on", b.dataset.filter === rs.filter));
    const query = rs.filter === "all" ? "" : ["overdue", "due_soon"].includes(rs.filter) ? `?flag=${rs.filter}` : `?status=${rs.filter}`;
    const asked = ++latest.orders;
    try {
      const all = await call("GET", "/rectifications");
      const shown = query ? await call("GET", `/rectifications${query}`) : all;
      if (asked !== latest.orders) return;
      showCounts(all);
      el("rating-list").replaceChildren(...shown.map(orderRow));
      message("ratings-msg", shown.length ? "" : "没有整改单", "muted");
    } catch (error) {
      office.handle(error, "ratings-msg");
    }
  }

  function showCounts(orders) {
    const counts = { all: orders.length };
    orders.forEach((o) => {
      counts[o.status] = (counts[o.status] || 0) + 1;
      if (o.overdue.length) counts.overdue = (counts.overdue || 0) + 1;
      if (o.due_soon) counts.due_soon = (counts.due_soon || 0) + 1;
    });
    const capped = orders.length >= LIST_LIMIT ? "+" : "";
    el("rating-filters").querySelectorAll("button").forEach((b) => {
      const badge = b.querySelector(".count");
      const count = counts[b.dataset.filter] || 0;
      badge.textContent = `${count}${count ? capped : ""}`;
      badge.classList.toggle("alert", b.dataset.filter === "overdue" && counts.overdue > 0);
    });
    const tab = el("ratings-count");
    const pending = orders.filter((o) => PENDING.includes(o.status)).length;
    tab.textContent = `${pending}${pending ? capped : ""}`;
    tab.classList.toggle("alert", (counts.overdue || 0) > 0);
  }

  function windowName(id) { return id ? rs.windows[id] || `${id}号窗口` : "—"; }

  function orderRow(o) {
    const tr = make("tr", undefined, { className: "order" });
    tr.dataset.id = o.id;
    tr.classList.toggle("on", o.id === rs.selected);
    const status = make("td", o.status_label);
    status.append(...badges(o));
    tr.append(make("td", o.evaluation.number), make("td", o.evaluation.level), make("td", windowName(o.window)), status);
    tr.addEventListener("click", () => openOrder(o.id));
    return tr;
  }

  function badges(o) {
    if (o.overdue.length) return [make("span", "超期", { className: "badge overdue" })];
    return o.due_soon ? [make("span", "将到期", { className: "badge soon" })] : [];
  }

  // ---- one order -------------------------------------------------------------------------------

  async function openOrder(id) {
    rs.selected = id;
    document.querySelectorAll("tr.order").forEach((tr) => tr.classList.toggle("on", tr.dataset.id === id));
    try {
      const order = await call("GET", `/rectifications/${id}`);
      if (rs.selected === id) renderOrder(order); // a later click wins over a slow answer
    } catch (error) {
      if (rs.selected === id) el("rating-detail").replaceChildren(make("div", error.message, { className: "error" }));
    }
  }

  function facts(box, title, rows) {
    box.append(make("h4", title));
    rows.forEach(([label, value, extra]) => {
      const r = make("div", undefined, { className: "row" });
      const v = make("span", value === "" || value === null || value === undefined ? "—" : String(value));
      if (extra) v.append(extra);
      r.append(make("span", label), v);
      box.append(r);
    });
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const m = Math.floor(seconds / 60);
    return m ? `${m}分${seconds % 60}秒` : `${seconds}秒`;
  }

  function renderOrder(o) {
    const box = el("rating-detail");
    const e = o.evaluation;
    const title = make("h3", `${e.number} · ${e.level}（${e.score}分）`);
    title.append(make("span", o.status_label, { className: "badge" }), ...badges(o));
    box.replaceChildren(title);
    facts(box, "评价", [
      ["评价等级", `${e.level}（${e.score}分）`],
      ["评价原因", e.reasons.map((r) => r.label).join("、")],
      ["评价内容", e.comment],
      ["评价渠道", CHANNELS[e.channel] || e.channel],
      ["评价时间", hallq.time(e.rated_at)],
      ["评价人", e.real_name ? `实名 ${e.masked_phone}` : "匿名"],
      ["计入统计", e.counts ? "是" : `否（申诉成立：${e.void_reason || ""}）`],
    ]);
    const t = o.times;
    facts(box, "办件", [
      ["事项", e.task_name], ["窗口", windowName(o.window)], ["经办人工号", e.clerk],
      ["取号时间", t ? hallq.time(t.issued_at) : "—"], ["办结时间", t ? hallq.time(t.finished_at) : hallq.time(e.served_at)],
      ["等候时长", t ? duration(t.wait_s) : "—"], ["办理时长", t ? duration(t.service_s) : "—"],
    ]);
    facts(box, "办理期限", o.status === "upheld" ? [["期限", "申诉成立，不再计时"]]
      : [deadline(o, "verify", "核实期限"), deadline(o, "rectify", "整改期限"), deadline(o, "call_back", "回访期限")]);
    const done = [["核实情况", o.facts], ["整改措施", o.measures], ["回访记录", o.call_back && `${o.satisfied ? "满意" : "不满意"}：${o.call_back}`],
      ["申诉理由", o.appeal], ["处理意见", o.decision]].filter(([, v]) => v);
    if (done.length) facts(box, "处理情况", done);
    box.append(make("div", "", { id: "order-msg" }));
    forms(o).forEach((f) => box.append(f));
    box.append(make("h4", "处理记录"));
    const ol = make("ol", undefined, { className: "timeline" });
    o.history.forEach((h) => {
      const who = h.actor.replace(/^(user|device|system):/, "");
      ol.append(make("li", `${hallq.time(h.at)} ${h.label} — ${who}（${ROLES[h.role] || h.role}）${h.note ? "：" + h.note : ""}`));
    });
    box.append(ol);
  }

  const DONE_AFTER = { verify: ["verified", "rectified", "closed", "escalated"], rectify: ["rectified", "closed", "escalated"], call_back: ["closed", "escalated"] };

  function deadline(o, step, label) {
    const day = o.due[step];
    if (!day) return [label, "整改后计算"];
    if (o.overdue.includes(step)) return [label, day, make("span", "已超期", { className: "badge overdue" })];
    if (DONE_AFTER[step].includes(o.status)) return [label, day, make("span", "已完成", { className: "badge" })];
    return [label, day];
  }

  function allowed(form, o) {
    if (!rs.me || !form.roles.includes(rs.me.role)) return false;
    // a clerk is given only the orders about them (the API's rule): every form for their role applies
    if (!form.notAppellant) return true;
    const appeal = [...o.history].reverse().find((h) => h.action === "appeal");
    return !appeal || appeal.actor !== `user:${rs.me.name}`;
  }

  function forms(o) {
    return (FORMS[o.status] || []).filter((f) => allowed(f, o)).map((spec) => {
      const form = make("form", undefined, { className: "step" });
      form.dataset.form = spec.buttons[0][0];
      const [name, label, hint] = spec.field;
      const key = `${o.id}:${form.dataset.form}:${name}`;
      const text = make("textarea", undefined, { name, rows: 2, placeholder: hint, value: rs.drafts[key] || "" });
      text.addEventListener("input", () => { rs.drafts[key] = text.value; });
      const field = make("label", label);
      field.append(text);
      form.append(make("h4", spec.title), field);
      if (spec.choice) form.append(choice(o.id));
      const bar = make("div", undefined, { className: "actions" });
      spec.buttons.forEach(([action, caption]) => {
        const b = make("button", caption, { type: "button" });
        b.dataset.action = action;
        b.addEventListener("click", () => act(o, action, form));
        bar.append(b);
      });
      form.append(bar);
      form.addEventListener("submit", (event) => event.preventDefault());
      return form;
    });
  }

  function choice(id) {
    const line = make("div", undefined, { className: "choice" });
    [["yes", "群众满意"], ["no", "群众不满意"]].forEach(([value, label]) => {
      const key = `${id}:satisfied`;
      const radio = make("input", undefined, { type: "radio", name: "satisfied", value, checked: rs.drafts[key] === value });
      radio.addEventListener("change", () => { rs.drafts[key] = value; });
      const l = make("label");
      l.append(radio, document.createTextNode(` ${label}`));
      line.append(l);
    });
    return line;
  }

  async function act(o, action, form) {
    const spec = FORMS[o.status].find((f) => f.buttons.some(([a]) => a === action));
    const text = form.querySelector("textarea").value.trim();
    if (!spec.optional && text.length < 2) { message("order-msg", `请填写${spec.field[1]}（至少2个字）。`, "error"); return; }
    const body = { [spec.field[0]]: text };
    if (action === "call-back") {
      const picked = form.querySelector("input[name=satisfied]:checked");
      if (!picked) { message("order-msg", "请选择群众是否满意。", "error"); return; }
      body.satisfied = picked.value === "yes";
    }
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    message("order-msg", "正在提交…", "muted");
    try {
      const answer = await call("POST", `/rectifications/${o.id}/${action}`, body);
      Object.keys(rs.drafts).filter((k) => k.startsWith(`${o.id}:`)).forEach((k) => delete rs.drafts[k]);
      renderOrder(answer);
      message("order-msg", `已提交：${answer.history[answer.history.length - 1].label}`, "ok");
      refreshOrders();
      loadSummary();
    } catch (error) {
      form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      office.handle(error, "order-msg");  // the API's sentence; what was typed stays in the form
    }
  }

  // ---- the month's numbers ---------------------------------------------------------------------

  const pct = (v) => (v === null || v === undefined ? "—" : `${v.toFixed(1)}%`);

  // The month picker: the hall's month (the first answer's) and the 23 before it, as 2026年11月.
  function monthsBefore(month, count) {
    const [year, number] = month.split("-").map(Number);
    return Array.from({ length: count }, (_, n) => {
      const d = new Date(year, number - 1 - n, 1);
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
    });
  }

  function monthLabel(month) { return `${month.slice(0, 4)}年${Number(month.slice(5))}月`; }

  function pickMonth(month) {
    const select = el("summary-month");
    if (!select.options.length) select.append(...monthsBefore(month, 24).map((m) => make("option", monthLabel(m), { value: m })));
    select.value = month;
  }

  async function loadSummary() {
    const month = el("summary-month").value;
    const by = el("summary-by").value;
    const asked = ++latest.summary;
    try {
      const answer = await call("GET", `/evaluations/summary?by=${by}${month ? `&month=${month}` : ""}`);
      if (asked !== latest.summary) return;
      pickMonth(answer.month);
      el("summary-table").replaceChildren(summaryTable(answer));
      const left = answer.excluded ? `申诉成立的 ${answer.excluded} 条评价不计入。` : "";
      message("summary-msg", `好评率 = 满意及非常满意 ÷ 评价数；回复率、整改率、回访率按实名差评计算。${left}`, "muted");
    } catch (error) {
      office.handle(error, "summary-msg");
    }
  }

  function summaryTable(answer) {
    const head = ["排名", { window: "窗口", clerk: "工作人员", service: "事项", hall: "大厅" }[answer.by], "评价数", "好评",
      "好评率", "差评", "实名差评", "回复率", "整改率", "回访率"];
    const table = make("table", undefined, { className: "summary" });
    const tr = make("tr");
    head.forEach((h) => tr.append(make("th", h)));
    table.append(make("thead"));
    table.tHead.append(tr);
    const body = make("tbody");
    const line = (r, first) => {
      const row = make("tr");
      row.dataset.key = r.key;
      [first, r.label, r.count, r.good, pct(r.good_pct), r.bad, r.bad_real_name, pct(r.replied_pct),
        pct(r.rectified_pct), pct(r.called_back_pct)].forEach((v) => row.append(make("td", String(v))));
      return row;
    };
    answer.rows.forEach((r) => body.append(line(r, r.rank === null ? "—" : r.rank)));
    if (!answer.rows.length) {
      const none = make("tr");
      none.append(make("td", "本月没有评价", { colSpan: head.length }));
      body.append(none);
    }
    const total = line(answer.total, "合计");
    total.className = "total";
    body.append(total);
    table.append(body);
    return table;
  }

  function message(id, text, kind) {
    el(id).textContent = text;
    el(id).className = kind;
  }

  window.hallqRatings = { attach, hide };
})();
