// /city at the hub: every hall now (GET /api/v1/hub/live), grouped by level with each level's and
// each area's totals, the halls ranked over a range (GET /api/v1/hub/rankings) and each hall's
// monthly report (GET /api/v1/hub/halls/{hall}/reports/monthly/YYYY-MM.pdf|.xlsx).
//
// Refreshed by a poll every REFRESH_MS rather than a push: the hub learns of a hall in batches and
// heartbeats (every 20 s at most), computes the view from its stored events when asked, and a poll
// of one small answer needs no change feed inside the hub and survives a hub restart by itself.
"use strict";
(function () {
  const REFRESH_MS = 5000;
  const el = (id) => document.getElementById(id);
  const make = staff.make;
  const LEVELS = [["center", "市中心"], ["sub_center", "分中心"], ["town", "便民服务中心"], ["village", "代办点"]];
  const KIND = Object.fromEntries(LEVELS);
  let timer = null;
  let waitingChart = null;
  let names = {};

  // ---- formatting ---------------------------------------------------------------------------------
  function duration(seconds) {
    if (!seconds) return "—";
    if (seconds < 60) return `${seconds}秒`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)}分钟`;
    return `${Math.floor(seconds / 3600)}小时${Math.floor((seconds % 3600) / 60)}分`;
  }
  function clock(iso) {
    if (!iso) return "—";
    const options = { timeZone: hallq.zone, hour: "2-digit", minute: "2-digit", hour12: false };
    const date = new Date(iso);
    const sameDay = hallq.dayOf(date) === hallq.today();
    if (!sameDay) Object.assign(options, { month: "numeric", day: "numeric" });
    return date.toLocaleString("zh-CN", options);
  }

  // ---- the halls now --------------------------------------------------------------------------------
  function status(hall) {
    const cell = make("td");
    const dot = make("span", hall.online ? "在线" : `离线（自${clock(hall.offline_since)}）`);
    dot.className = hall.online ? "online" : "offline";
    cell.append(dot);
    return cell;
  }

  // how far behind the hub is: events the hall's uplink said it had and the hub does not hold yet
  function lag(hall) {
    const missing = hall.events_behind ? `差${hall.events_behind}条` : "";
    if (!hall.online) {
      if (hall.behind_s === null) return "从未上报";
      return `最后事件${duration(hall.behind_s)}前${missing ? `，离线时${missing}` : ""}，其后待补传`;
    }
    if (missing) return `补传中，${missing}`;
    return hall.unfolded ? `已同步，${hall.unfolded}条待统计` : "已同步";
  }

  function reportCell(hall) {
    const cell = make("td");
    for (const format of ["pdf", "xlsx"]) {
      const button = make("button", format === "pdf" ? "月报PDF" : "Excel", { className: "small" });
      button.addEventListener("click", () => report(`halls/${encodeURIComponent(hall.hall)}`, format));
      cell.append(button);
    }
    return cell;
  }

  function hallRow(hall) {
    const row = make("tr");
    row.dataset.hall = hall.hall;
    if (!hall.online) row.className = "offline-row";
    const indent = { center: 0, sub_center: 1, town: 2, village: 3 }[hall.kind] || 0;
    const name = make("td", hall.name);
    name.style.paddingLeft = `${6 + indent * 14}px`;
    row.append(name, make("td", KIND[hall.kind] || hall.kind), make("td", names[hall.parent] || "—"), status(hall));
    const longest = make("td", duration(hall.longest_wait_s));
    if (hall.longest_wait_s > 20 * 60) longest.className = "bad";
    row.append(make("td", String(hall.waiting)), longest, make("td", `${hall.windows_open} / ${hall.windows}`));
    row.append(make("td", lag(hall)), reportCell(hall));
    return row;
  }

  function totalRow(rollup, label) {
    const row = make("tr", undefined, { className: "total" });
    row.append(make("td", label), make("td", ""), make("td", ""), make("td", `在线 ${rollup.online} / ${rollup.halls}`));
    row.append(make("td", String(rollup.waiting)), make("td", duration(rollup.longest_wait_s)), make("td", String(rollup.windows_open)));
    row.append(make("td", ""), make("td", ""));
    return row;
  }

  function drawHalls(live) {
    const head = make("tr");
    for (const title of ["大厅", "类别", "上级", "联网状态", "等候人数", "最长等候", "开放窗口", "数据同步", "月报"]) head.append(make("th", title));
    const body = [head];
    for (const [kind, label] of LEVELS) {
      const halls = live.halls.filter((h) => h.kind === kind);
      if (!halls.length) continue;
      const heading = make("tr", undefined, { className: "level" });
      heading.append(make("td", label, { colSpan: 9 }));
      body.push(heading, ...halls.map(hallRow));
      const rollup = live.levels.find((l) => l.key === kind);
      if (rollup) body.push(totalRow(rollup, `${label}小计`));
    }
    body.push(totalRow(live.total, "全市合计"));
    el("halls").replaceChildren(...body);
  }

  function drawAreas(live) {
    const head = make("tr");
    for (const title of ["辖区", "大厅数", "在线", "等候人数", "最长等候", "开放窗口", "辖区月报"]) head.append(make("th", title));
    const rows = live.areas.map((area) => {
      const row = make("tr");
      const cell = make("td");
      for (const format of ["pdf", "xlsx"]) {
        const button = make("button", format === "pdf" ? "PDF" : "Excel", { className: "small" });
        button.addEventListener("click", () => report(`areas/${encodeURIComponent(area.key)}`, format));
        cell.append(button);
      }
      row.append(make("td", area.label), make("td", String(area.halls)), make("td", String(area.online)),
        make("td", String(area.waiting)), make("td", duration(area.longest_wait_s)), make("td", String(area.windows_open)), cell);
      return row;
    });
    el("areas").replaceChildren(head, ...rows);
  }

  function drawKpis(live) {
    const total = live.total;
    const offline = total.halls - total.online;
    const cells = [
      ["大厅总数", total.halls], ["在线", total.online], ["离线", offline, offline > 0],
      ["等候人数", total.waiting], ["最长等候", duration(total.longest_wait_s), total.longest_wait_s > 20 * 60],
      ["开放窗口", total.windows_open],
    ];
    el("kpis").replaceChildren(...cells.map(([name, value, bad]) => {
      const box = make("div", undefined, { className: "kpi" });
      box.append(make("div", name, { className: "name" }), make("div", String(value), { className: bad ? "value bad" : "value" }));
      return box;
    }));
  }

  function drawWaiting(live) {
    if (!waitingChart) waitingChart = echarts.init(el("chart-waiting"));
    const halls = live.halls;
    waitingChart.setOption({
      animation: false,
      grid: { left: 150, right: 30, top: 10, bottom: 24 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: halls.map((h) => h.name) },
      series: [{ type: "bar", data: halls.map((h) => ({ value: h.waiting, itemStyle: { color: h.online ? "#2563eb" : "#9ca3af" } })),
                 label: { show: true, position: "right" } }],
    });
  }

  async function refresh() {
    try {
      const live = await staff.json("GET", "/api/v1/hub/live");
      names = Object.fromEntries(live.halls.map((h) => [h.hall, h.name]));
      drawKpis(live);
      drawHalls(live);
      drawAreas(live);
      drawWaiting(live);
      el("refreshed").textContent = `（${clock(live.at)} 更新，每${REFRESH_MS / 1000}秒刷新）`;
      el("msg").textContent = "";
      document.body.dataset.live = live.at;  // for the page tests: this answer is drawn
    } catch (error) {
      el("msg").textContent = `读取失败：${error.message}（稍后自动重试）`;
      el("msg").className = "error";
    }
  }

  // ---- rankings ---------------------------------------------------------------------------------------
  const setRange = staff.setRange;

  function rankingCard(ranking) {
    const card = make("div", undefined, { className: "card" });
    card.append(make("h4", `${ranking.label}排名（${ranking.unit}）`));
    const table = make("table", undefined, { className: "numbers" });
    const head = make("tr");
    for (const title of ["名次", "大厅", ranking.label, "样本"]) head.append(make("th", title));
    const rows = ranking.rows.map((r) => {
      const row = make("tr");
      row.append(make("td", String(r.rank)), make("td", r.name), make("td", String(r.value)), make("td", String(r.samples)));
      return row;
    });
    if (!rows.length) {
      const empty = make("tr");
      empty.append(make("td", "本期间无数据", { colSpan: 4 }));
      rows.push(empty);
    }
    table.replaceChildren(head, ...rows);
    card.append(table);
    return card;
  }

  async function loadRankings() {
    el("rank-msg").textContent = "正在读取…";
    el("rank-msg").className = "muted";
    try {
      const query = `from=${encodeURIComponent(el("from").value)}&to=${encodeURIComponent(el("to").value)}`;
      const answer = await staff.json("GET", `/api/v1/hub/rankings?${query}`);
      el("rankings").replaceChildren(...answer.rankings.map(rankingCard));
      el("rank-msg").textContent = "";
      document.body.dataset.ranked = `${answer.from}/${answer.to}`;
    } catch (error) {
      el("rank-msg").textContent = error.message;
      el("rank-msg").className = "error";
    }
  }

  // ---- monthly reports ------------------------------------------------------------------------------------
  function fillMonths() { staff.fillMonths(el("report-month")); }

  async function report(path, format) {
    const month = el("report-month").value;
    try {
      const reply = await staff.api("GET", `/api/v1/hub/${path}/reports/monthly/${month}.${format}`);
      const named = /filename="([^"]+)"/.exec(reply.headers.get("Content-Disposition") || "");
      const link = make("a", undefined, { href: URL.createObjectURL(await reply.blob()), download: named ? named[1] : `report-${month}.${format}` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (error) {
      el("rank-msg").textContent = error.message;
      el("rank-msg").className = "error";
    }
  }

  function ready() {
    if (!el("from").value) setRange("month");
    refresh();
    loadRankings();
    clearInterval(timer);
    timer = setInterval(() => { if (!el("page").hidden) refresh(); }, REFRESH_MS);
  }

  document.querySelectorAll("[data-range]").forEach((b) => b.addEventListener("click", () => { setRange(b.dataset.range); loadRankings(); }));
  el("query").addEventListener("click", loadRankings);
  fillMonths();
  window.addEventListener("resize", () => waitingChart && waitingChart.resize());
  staff.start(ready);
})();
