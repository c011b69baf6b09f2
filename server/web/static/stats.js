// /office/stats: the hall's numbers over a date range (GET …/stats by hour, day, service, window and
// clerk, and …/stats/waits), drawn with the ECharts shipped in the package, the cases' numbers, and the
// API's CSV / XLSX exports.
"use strict";
(function () {
  const el = (id) => document.getElementById(id);
  const make = staff.make;
  const COLORS = { issued: "#2563eb", served: "#16a34a", mean: "#f59e0b", p90: "#dc2626", bins: "#0891b2",
                   queue: "#7c3aed", open: "#64748b" };
  const charts = {};

  // ---- formatting ---------------------------------------------------------------------------------
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const s = Math.round(seconds);
    if (s < 60) return `${s}秒`;
    if (s < 3600) return `${Math.floor(s / 60)}分${String(s % 60).padStart(2, "0")}秒`;
    return `${Math.floor(s / 3600)}小时${Math.floor((s % 3600) / 60)}分`;
  }
  const minutes = (seconds) => (seconds === null || seconds === undefined ? null : Math.round(seconds / 6) / 10);
  const pct = (value) => (value === null || value === undefined ? "—" : `${value.toFixed(1)}%`);

  // ---- the range ------------------------------------------------------------------------------------
  const setRange = staff.setRange;
  const range = () => `from=${encodeURIComponent(el("from").value)}&to=${encodeURIComponent(el("to").value)}`;
  const stats = (by) => staff.json("GET", `${staff.base()}/stats?${range()}&by=${by}`);

  async function load() {
    el("msg").textContent = "正在读取…";
    el("msg").className = "muted";
    try {
      const [hours, days, services, windows, clerks, waits] = await Promise.all([
        stats("hour"), stats("day"), stats("service"), stats("window"), stats("clerk"),
        staff.json("GET", `${staff.base()}/stats/waits?${range()}`),
      ]);
      kpis(days.total);
      caseKpis(days.total.cases);
      drawHours(hours.rows);
      drawQueue(hours.rows);
      drawBins(waits);
      drawDays(days.rows);
      table("table-service", services, "业务", SERVICE_COLUMNS, (r) => r.issued || r.called || r.served || r.rating.count);
      table("table-cases", services, "业务", CASE_COLUMNS, (r) => r.cases && CASE_COLUMNS.some(([, , get]) => get(r)));
      table("table-window", windows, "窗口");
      table("table-clerk", clerks, "工作人员");
      await departments();
      el("msg").textContent = "";
      document.body.dataset.loaded = `${days.from}/${days.to}`;
    } catch (error) {
      el("msg").textContent = error.message;
      el("msg").className = "error";
    }
  }

  // ---- per department behind the window (GET …/stats/departments; none configured: the card stays hidden)
  const DEPARTMENT_COLUMNS = [
    ["受理", (c) => c.accepted], ["按期受理", (c) => c.accepted_in_time], ["办结", (c) => c.decided],
    ["按时办结率", (c) => pct(c.on_time_pct)], ["逾期", (c) => c.overdue], ["材料交接", (c) => c.handed_over],
    ["逾期交接", (c) => c.handovers_late], ["预审通过", (c) => c.prereviewed],
    ["预审一次通过率", (c) => pct(c.prereviewed_first_time_pct)],
  ];

  async function departments() {
    let answer;
    try {
      answer = await staff.json("GET", `${staff.base()}/stats/departments?${range()}`);
    } catch (error) {
      el("departments-card").hidden = true; // a clerk's login: the department numbers are not theirs
      return;
    }
    el("departments-card").hidden = !answer.rows.length;
    const head = make("tr");
    head.append(make("th", "部门"), ...DEPARTMENT_COLUMNS.map(([title]) => make("th", title)));
    const rows = answer.rows.map((r) => {
      const tr = make("tr");
      tr.dataset.key = r.department;
      tr.append(make("td", r.department), ...DEPARTMENT_COLUMNS.map(([, get]) => make("td", String(get(r.cases)))));
      return tr;
    });
    el("table-departments").replaceChildren(make("thead"), make("tbody"));
    el("table-departments").tHead.append(head);
    el("table-departments").tBodies[0].append(...rows);
  }

  // ---- the numbers at a glance ----------------------------------------------------------------------
  function kpis(total) {
    const items = [
      ["取号", `${total.issued}`], ["办结", `${total.served}`], ["平均等候", duration(total.wait_s.mean)],
      ["目标时间内叫号", pct(total.within_target_pct)], ["好评率", pct(total.rating.good_pct)], ["差评", `${total.rating.bad}`],
    ];
    el("kpis").replaceChildren(...items.map(([name, value]) => kpi(name, value)));
  }

  function kpi(name, value, bad) {
    const box = make("div", undefined, { className: "kpi" });
    box.append(make("div", name, { className: "name" }), make("div", value, { className: bad ? "value bad" : "value" }));
    return box;
  }

  function caseKpis(cases) {
    const c = cases || {};
    const n = (v) => (v === undefined ? "—" : `${v}`);
    el("case-kpis").replaceChildren(
      kpi("办件收件", n(c.received)), kpi("即办件占比", pct(c.instant_pct)), kpi("容缺受理", n(c.deferred)),
      kpi("按期受理率", pct(c.accepted_in_time_pct)), kpi("办结", n(c.decided)), kpi("按时办结率", pct(c.on_time_pct)),
      kpi("逾期", n(c.overdue), c.overdue > 0),
    );
  }

  // ---- charts -----------------------------------------------------------------------------------------
  function chart(id, option) {
    const node = el(id);
    if (!charts[id]) {
      charts[id] = echarts.init(node, null, { renderer: "canvas", locale: "ZH" });
      charts[id].on("finished", () => { node.dataset.drawn = "1"; });
    }
    node.dataset.drawn = "";
    option.series.forEach((s) => { if (s.type === "bar") s.barMaxWidth = 36; });  // one day: no wall of colour
    charts[id].setOption(Object.assign({
      animation: false,
      textStyle: { fontFamily: "Noto Sans CJK SC, Microsoft YaHei, sans-serif", fontSize: 13 },
      grid: { left: 48, right: 48, top: 34, bottom: 28 },
      tooltip: { trigger: "axis" },
      legend: { top: 0, textStyle: { fontSize: 13 } },
    }, option), true);
  }

  function hourAxis(rows) {
    const keys = rows.map((r) => Number(r.key));
    const first = Math.min(8, ...keys);
    const last = Math.max(17, ...keys);
    const byHour = Object.fromEntries(rows.map((r) => [Number(r.key), r]));
    const hours = [];
    for (let h = first; h <= last; h += 1) hours.push(h);
    return { labels: hours.map((h) => `${String(h).padStart(2, "0")}时`), rows: hours.map((h) => byHour[h]) };
  }

  function drawHours(rows) {
    const axis = hourAxis(rows);
    const value = (get) => axis.rows.map((r) => (r ? get(r) : 0));
    const wait = (get) => axis.rows.map((r) => (r && r.wait_s.count ? minutes(get(r.wait_s)) : null));
    chart("chart-hour-counts", {
      xAxis: { type: "category", data: axis.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "取号", type: "bar", data: value((r) => r.issued), itemStyle: { color: COLORS.issued } },
        { name: "办结", type: "bar", data: value((r) => r.served), itemStyle: { color: COLORS.served } },
      ],
    });
    chart("chart-hour-waits", {
      xAxis: { type: "category", data: axis.labels },
      yAxis: { type: "value", name: "分钟", nameGap: 8 },
      tooltip: { trigger: "axis", valueFormatter: (v) => (v === null || v === undefined ? "—" : `${v} 分钟`) },
      series: [
        { name: "平均等候", type: "line", data: wait((w) => w.mean), connectNulls: true, symbolSize: 7, itemStyle: { color: COLORS.mean } },
        { name: "P90等候", type: "line", data: wait((w) => w.p90), connectNulls: true, symbolSize: 7, itemStyle: { color: COLORS.p90 } },
      ],
    });
  }

  // one axis for both: people waiting beside the windows open for them reads as "per window"
  function drawQueue(rows) {
    const axis = hourAxis(rows);
    const value = (field) => axis.rows.map((r) => (r && r[field] !== null ? r[field] : 0));
    chart("chart-hour-queue", {
      xAxis: { type: "category", data: axis.labels },
      yAxis: { type: "value", name: "人 / 个", nameGap: 8 },
      series: [
        { name: "开放窗口数", type: "bar", data: value("open_windows_mean"), itemStyle: { color: COLORS.open, opacity: 0.55 } },
        { name: "平均排队人数", type: "line", data: value("queue_mean"), symbolSize: 7, areaStyle: { opacity: 0.12 },
          itemStyle: { color: COLORS.queue } },
      ],
    });
  }

  function drawBins(waits) {
    chart("chart-wait-bins", {
      legend: { show: false },
      xAxis: { type: "category", data: waits.bins.map((b) => b.label.replace("分钟", "")), name: "分钟", nameGap: 4,
               axisLabel: { interval: 0, fontSize: 12 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: "人次", type: "bar", data: waits.bins.map((b) => b.count), itemStyle: { color: COLORS.bins },
                 label: { show: true, position: "top", formatter: (p) => (p.value ? p.value : "") } }],
      graphic: waits.count ? [] : [{ type: "text", left: "center", top: "middle", style: { text: "所选日期内暂无叫号", fill: "#5b6878", fontSize: 15 } }],
    });
  }

  function drawDays(rows) {
    chart("chart-days", {
      xAxis: { type: "category", data: rows.map((r) => r.key.slice(5)) },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", name: "分钟", nameGap: 8, splitLine: { show: false } }],
      series: [
        { name: "取号", type: "bar", data: rows.map((r) => r.issued), itemStyle: { color: COLORS.issued } },
        { name: "办结", type: "bar", data: rows.map((r) => r.served), itemStyle: { color: COLORS.served } },
        { name: "平均等候（分钟）", type: "line", yAxisIndex: 1, connectNulls: true, itemStyle: { color: COLORS.mean },
          data: rows.map((r) => (r.wait_s.count ? minutes(r.wait_s.mean) : null)) },
      ],
    });
  }

  // ---- tables -----------------------------------------------------------------------------------------
  const COLUMNS = [
    ["served", "办结", (r) => r.served, (v) => `${v}`],
    ["wait_mean", "平均等候", (r) => r.wait_s.mean, duration],
    ["wait_p90", "P90等候", (r) => r.wait_s.p90, duration],
    ["service_mean", "平均办理", (r) => r.service_s.mean, duration],
    ["ratings", "评价数", (r) => r.rating.count, (v) => `${v}`],
    ["good_pct", "好评率", (r) => r.rating.good_pct, pct],
    ["bad", "差评", (r) => r.rating.bad, (v) => `${v}`],
  ];

  const count = (v) => (v === null || v === undefined ? "—" : `${v}`);
  const SERVICE_COLUMNS = [
    ["issued", "取号", (r) => r.issued, count],
    ["served", "办结", (r) => r.served, count],
    ["wait_mean", "平均等候", (r) => r.wait_s.mean, duration],
    ["wait_p90", "P90等候", (r) => r.wait_s.p90, duration],
    ["within_target_pct", "目标内叫号", (r) => r.within_target_pct, pct],
    ["good_pct", "好评率", (r) => r.rating.good_pct, pct],
    ["bad", "差评", (r) => r.rating.bad, count],
  ];
  const CASE_COLUMNS = [
    ["received", "收件", (r) => r.cases.received, count],
    ["instant", "即办件", (r) => r.cases.instant, count],
    ["deferred", "容缺", (r) => r.cases.deferred, count],
    ["accepted", "受理", (r) => r.cases.accepted, count],
    ["accepted_in_time_pct", "按期受理率", (r) => r.cases.accepted_in_time_pct, pct],
    ["decided", "办结", (r) => r.cases.decided, count],
    ["on_time_pct", "按时办结率", (r) => r.cases.on_time_pct, pct],
    ["overdue", "逾期", (r) => r.cases.overdue, count],
  ];

  // `keep`: which rows to list; by default all but "" (what happened before any window: issues,
  // cancels), which has none of these columns
  function table(id, answer, what, columns = COLUMNS, keep = (r) => r.key !== "") {
    const head = make("tr");
    head.append(make("th", what), ...columns.map(([, title]) => make("th", title)));
    const rows = answer.rows.filter(keep);
    const body = rows.map((r) => line(r, "", columns));
    if (!rows.length) {
      const empty = make("tr");
      empty.append(make("td", "所选日期内暂无数据", { colSpan: columns.length + 1, className: "muted" }));
      body.push(empty);
    }
    body.push(line(answer.total, "total", columns));
    el(id).replaceChildren(make("thead"), make("tbody"));
    el(id).tHead.append(head);
    el(id).tBodies[0].append(...body);
  }

  function line(row, className, columns) {
    const tr = make("tr", undefined, { className });
    tr.dataset.key = row.key;
    tr.append(make("td", row.label));
    columns.forEach(([field, , get, show]) => {
      const value = row.cases === null && columns === CASE_COLUMNS ? null : get(row);
      const td = make("td", show(value));
      td.dataset.field = field;
      td.dataset.value = value === null || value === undefined ? "" : String(value);
      if ((field === "bad" || field === "overdue") && value > 0) td.className = "bad";
      tr.append(td);
    });
    return tr;
  }

  // ---- exports: the API's own files, fetched with the login and saved under the API's name ----------
  function download(format) {
    return save(`${staff.base()}/stats?${range()}&by=${el("export-by").value}&format=${format}`, `stats.${format}`);
  }

  // The monthly report a sub-centre sends to the city (统一情况汇总): this month and the eleven before;
  // last month is chosen, as it is the one that is reported.
  function fillMonths() {
    staff.fillMonths(el("report-month"));
    el("report-month").selectedIndex = 1;
  }

  function report(format) {
    const month = el("report-month").value;
    return save(`${staff.base()}/reports/monthly/${month}.${format}`, `report-${month}.${format}`);
  }

  async function save(url, fallbackName) {
    try {
      const reply = await staff.api("GET", url);
      const named = /filename="([^"]+)"/.exec(reply.headers.get("Content-Disposition") || "");
      const link = make("a", undefined, { href: URL.createObjectURL(await reply.blob()), download: named ? named[1] : fallbackName });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (error) {
      el("msg").textContent = error.message;
      el("msg").className = "error";
    }
  }

  function ready() {
    hallq.hallName(staff.state.hall, "hall-name");
    if (!el("from").value) setRange("month");
    load();
  }

  document.querySelectorAll("[data-range]").forEach((b) => b.addEventListener("click", () => { setRange(b.dataset.range); load(); }));
  el("query").addEventListener("click", load);
  el("export-csv").addEventListener("click", () => download("csv"));
  el("export-xlsx").addEventListener("click", () => download("xlsx"));
  el("report-pdf").addEventListener("click", () => report("pdf"));
  el("report-xlsx").addEventListener("click", () => report("xlsx"));
  fillMonths();
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
  staff.start(ready);
})();
