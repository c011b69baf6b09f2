"use strict";
// The back office's two desks on the office page (docs/cases.md):
// 窗口收件 — a window clerk records a 收件: every material of the item checked off against the handbook
//   (originals seen, 容缺 promises signed), and the 收件通知书 prints at that window's printer;
// 交接 — the 《材料交接表》 a window hands a department (the department signs for it here) and the
//   《办理结果交接表》 a department hands the output window.
// Reads and acts only through the API; a department's staff see their department's sheets only.
(function () {
  let office = null;
  const ds = { info: null, handbook: [], bundles: [] };
  const el = (id) => document.getElementById(id);
  const make = (...args) => office.make(...args);
  const call = (method, path, body) => hallq.call(method, `${office.base()}${path}`, body, office.auth());

  function attach(context) {
    office = context;
    const role = office.role();
    if (role !== "department") addTab("intake", "窗口收件", showIntake);
    addTab("handover", role === "department" ? "交接签收" : "材料交接", showHandovers);
    el("desks-desk").replaceChildren();
    load();
  }

  function addTab(key, label, open) {
    const tab = make("button", label);
    tab.dataset.tab = key;
    tab.addEventListener("click", open);
    el("tabs").append(tab);
  }

  async function load() {
    try {
      const [info, book, bundles] = await Promise.all([
        call("GET", "/back-office"), call("GET", "/handbook"), call("GET", "/bundles/catalogue"),
      ]);
      ds.info = info;
      ds.bundles = bundles.bundles;
      ds.handbook = book.services.flatMap((s) => s.items.map((i) => ({ ...i, department: s.department })));
    } catch (error) {
      office.handle(error, "list-msg");
    }
  }

  function open(key) {
    el("tabs").querySelectorAll("button").forEach((b) => b.classList.toggle("on", b.dataset.tab === key));
    el("cases-desk").hidden = true;
    el("calendar-note").hidden = true;
    const ratings = el("ratings-desk");
    if (ratings) ratings.hidden = true;
    el("desks-desk").hidden = false;
  }

  function hide() { el("desks-desk").hidden = true; }

  function option(value, text) { return make("option", text, { value }); }

  function field(label, input) {
    const line = make("label", `${label} `);
    line.append(input);
    return line;
  }

  // ---- 窗口收件 --------------------------------------------------------------------------------------

  async function showIntake() {
    open("intake");
    if (!ds.info) await load();
    const box = make("div", undefined, { className: "card", id: "intake" });
    const windows = make("select", undefined, { id: "intake-window" });
    ds.info.windows.filter((w) => w.kind !== "output").forEach((w) => windows.append(option(w.id, w.name + (w.printer ? "" : "（未配打印机）"))));
    const items = make("select", undefined, { id: "intake-item" });
    items.append(option("", "请选择办理事项"));
    ds.handbook.filter((i) => i.kind === "promised").forEach((i) => items.append(option(i.code, `${i.name}（${i.department}）`)));
    if (ds.bundles.length) {
      const group = make("optgroup", undefined, { label: "一件事（集成服务）" });
      ds.bundles.forEach((b) => group.append(option(`bundle:${b.code}`, `${b.name}（一件事，${b.parts.length}项）`)));
      items.append(group);
    }
    const materials = make("div", undefined, { id: "intake-materials" });
    items.addEventListener("change", () => showMaterials(materials, items.value));
    box.append(make("h3", "窗口收件"), field("收件窗口", windows), field("办理事项", items),
      field("身份证号", make("input", undefined, { id: "intake-id", size: 20, autocomplete: "off" })),
      field("姓名", make("input", undefined, { id: "intake-name", size: 8, autocomplete: "off" })),
      field("出生日期", make("input", undefined, { id: "intake-birth", size: 10, placeholder: "YYYYMMDD" })),
      field("联系电话", make("input", undefined, { id: "intake-phone", size: 14 })),
      agencyFields(), materials);
    const submit = make("button", "收件并打印收件通知书", { id: "intake-submit" });
    submit.addEventListener("click", receive);
    box.append(submit, make("div", "", { id: "intake-msg" }), make("pre", "", { id: "intake-slip", className: "slip" }));
    el("desks-desk").replaceChildren(scanCard(windows), box);
  }

  // 代办: a village point's agent submits for the citizen, who signs the 代办委托书
  function agencyFields() {
    const box = make("details", undefined, { id: "agency" });
    box.append(make("summary", "代办（代办点代为申报）"),
      field("代办点", make("input", undefined, { id: "agency-point", size: 24, placeholder: "如：白兔镇解塘村便民服务站" })),
      field("代办员", make("input", undefined, { id: "agency-agent", size: 8 })));
    const consent = make("label");
    consent.append(make("input", undefined, { type: "checkbox", id: "agency-consent" }), document.createTextNode(" 申请人已签署代办委托书"));
    box.append(consent);
    return box;
  }

  function agency() {
    const point = el("agency-point").value.trim();
    const agent = el("agency-agent").value.trim();
    if (!point && !agent) return undefined;
    return { point, agent_name: agent, consent_signed: el("agency-consent").checked };
  }

  // 网上预审 passed: the citizen shows the QR on the phone; the scanner (or the clerk) enters it here.
  function scanCard(windows) {
    const box = make("div", undefined, { className: "card", id: "scan-card" });
    const scan = make("input", undefined, { id: "scan", size: 60, placeholder: "扫描群众手机上的办件二维码" });
    const open = make("button", "打开预审件", { id: "scan-open" });
    const found = make("div", undefined, { id: "scan-case" });
    open.addEventListener("click", () => openScanned(scan.value.trim(), found, windows));
    scan.addEventListener("keydown", (event) => { if (event.key === "Enter") open.click(); });
    box.append(make("h3", "预审件收件"), scan, open, found);
    return box;
  }

  async function openScanned(text, box, windows) {
    const match = /\/c\/[^/]+\/([0-9a-f]+)/.exec(text);
    box.replaceChildren();
    if (!match) { box.append(make("div", "不是办件二维码", { className: "error" })); return; }
    try {
      const c = await call("GET", `/cases/${match[1]}`);
      box.append(make("div", `${c.item_name}（${c.department}） 申请人 ${c.masked_name} · ${c.status_label}`, { className: "muted" }));
      if (c.status !== "prereviewed") return;
      box.append(partMaterials(c.item, "（核验原件后收件）"));
      const receive = make("button", "预审件收件并打印收件通知书", { id: "scan-receive" });
      receive.addEventListener("click", async () => {
        const part = box.querySelector(".part");
        try {
          const done = await call("POST", `/cases/${c.id}/receive`, { window: windows.value, materials: checks(part) });
          el("intake-msg").textContent = `已收件：${done.receipt_no}。${done.print_message}`;
          el("intake-msg").className = done.printed ? "ok" : "warn";
          el("intake-slip").textContent = done.print_preview;
          box.replaceChildren();
        } catch (error) {
          office.handle(error, "intake-msg");
        }
      });
      box.append(receive);
    } catch (error) {
      box.append(make("div", error.message, { className: "error" }));
    }
  }

  function showMaterials(box, code) {
    box.replaceChildren();
    const bundle = ds.bundles.find((b) => `bundle:${b.code}` === code);
    if (bundle) {
      box.append(make("h4", "一表式：共性信息只填一次"));
      bundle.fields.forEach((f) => box.append(field(f.label, make("input", undefined, { className: "bundle-field", name: f.key, size: 30 }))));
      bundle.parts.forEach((p) => box.append(partMaterials(p.item, p.after.length ? `（在${p.after.map(itemName).join("、")}办结后办理）` : "（并联办理）")));
      return;
    }
    if (code) box.append(partMaterials(code, ""));
  }

  function itemName(code) {
    const item = ds.handbook.find((i) => i.code === code);
    return item ? item.name : code;
  }

  function partMaterials(code, order) {
    const item = ds.handbook.find((i) => i.code === code);
    const part = make("div", undefined, { className: "part" });
    part.dataset.item = code;
    part.append(make("h4", `材料核验：${item.name}（${item.department}）${order}`));
    item.materials.forEach((m, idx) => {
      const line = make("div", undefined, { className: "material" });
      line.dataset.idx = String(idx);
      line.append(make("strong", `${idx + 1}. ${m.name}（${m.form === "original" ? "原件" : "复印件"}${m.copies}份）`));
      line.append(tick("received", "已收"));
      if (m.form === "original") line.append(tick("seen", "原件已核验"));
      if (m.deferrable) line.append(tick("deferred", "容缺：已签承诺书"));
      part.append(line);
    });
    return part;
  }

  function tick(kind, text) {
    const label = make("label", undefined, { className: "tick" });
    label.style.display = "inline-block";
    label.style.marginLeft = "14px";
    label.append(make("input", undefined, { type: "checkbox", className: `m-${kind}` }), document.createTextNode(` ${text}`));
    return label;
  }

  function checks(part) {
    return [...part.querySelectorAll(".material")].flatMap((line) => {
      const on = (kind) => Boolean(line.querySelector(`.m-${kind}`) && line.querySelector(`.m-${kind}`).checked);
      const idx = Number(line.dataset.idx);
      if (on("deferred")) return [{ idx, status: "deferred", promise_signed: true }];
      return on("received") ? [{ idx, status: "provided", original_seen: on("seen") }] : [];
    });
  }

  async function receive() {
    const chosen = el("intake-item").value;
    const parts = [...document.querySelectorAll("#intake-materials .part")];
    const body = {
      window: el("intake-window").value, phone: el("intake-phone").value.trim(),
      id_card: { id_number: el("intake-id").value.trim(), name: el("intake-name").value.trim(), birth: el("intake-birth").value.trim() },
    };
    if (chosen.startsWith("bundle:")) {
      body.bundle = chosen.slice("bundle:".length);
      body.form = Object.fromEntries([...document.querySelectorAll(".bundle-field")].map((x) => [x.name, x.value.trim()]));
      body.parts = parts.map((p) => ({ item: p.dataset.item, materials: checks(p) }));
    } else {
      body.item = chosen;
      body.materials = parts.length ? checks(parts[0]) : [];
      body.agency = agency();
    }
    const msg = el("intake-msg");
    try {
      const done = await call("POST", body.bundle ? "/bundles" : "/cases/intake", body);
      msg.textContent = `已收件：${done.receipt_no}。${done.print_message}`;
      msg.className = done.printed ? "ok" : "warn";
      el("intake-slip").textContent = done.print_preview;
      ["intake-id", "intake-name", "intake-birth", "intake-phone"].forEach((id) => { el(id).value = ""; });
    } catch (error) {
      office.handle(error, "intake-msg");
    }
  }

  // ---- 交接 ------------------------------------------------------------------------------------------

  async function showHandovers() {
    open("handover");
    if (!ds.info) await load();
    const desk = el("desks-desk");
    desk.replaceChildren();
    if (office.role() === "department") desk.append(await resultsForm());
    else desk.append(materialsForm());
    desk.append(make("div", "", { id: "handover-msg" }), make("pre", "", { id: "handover-slip", className: "slip" }));
    desk.append(make("div", undefined, { id: "sheets" }));
    await loadSheets();
  }

  function materialsForm() {
    const box = make("div", undefined, { className: "card" });
    const department = make("select", undefined, { id: "handover-department" });
    ds.info.departments.forEach((d) => department.append(option(d, d)));
    const windows = make("select", undefined, { id: "handover-window" });
    ds.info.windows.filter((w) => w.kind !== "output").forEach((w) => windows.append(option(w.id, w.name)));
    const make_ = make("button", "生成《材料交接表》并打印", { id: "handover-create" });
    make_.addEventListener("click", async () => {
      const body = { kind: "materials", department: department.value, window: windows.value };
      await createSheet(body);
    });
    box.append(make("h3", "材料交接（上午收件15:00前、下午收件次日10:00前送达部门）"), field("接收部门", department), field("移交窗口", windows), make_);
    return box;
  }

  async function resultsForm() {
    const box = make("div", undefined, { className: "card" });
    box.append(make("h3", `结果交接：${ds.info.my_department} → 综合出件窗口`));
    const lists = await Promise.all(["approved", "rejected", "result_refused"].map((s) => call("GET", `/cases?status=${s}`)));
    const decided = lists.flatMap((l) => l.cases);
    if (!decided.length) box.append(make("div", "没有待移交的办理结果", { className: "muted" }));
    decided.forEach((c) => {
      const line = make("label");
      line.append(make("input", undefined, { type: "checkbox", className: "result-case", value: c.id }),
        document.createTextNode(` ${c.receipt_no} ${c.item_name} ${c.masked_name} · ${c.status_label}`));
      box.append(line);
    });
    const send = make("button", "生成《办理结果交接表》", { id: "results-create" });
    send.disabled = !decided.length;
    send.addEventListener("click", async () => {
      const cases = [...document.querySelectorAll(".result-case:checked")].map((x) => x.value);
      await createSheet({ kind: "results", department: ds.info.my_department, cases });
      await showHandovers();
    });
    box.append(send);
    return box;
  }

  async function createSheet(body) {
    const msg = el("handover-msg");
    try {
      const sheet = await call("POST", "/handovers", body);
      msg.textContent = `已生成 ${sheet.title} ${sheet.id}，共 ${sheet.items.length} 件。${sheet.print_message || ""}`;
      msg.className = sheet.printed === false ? "warn" : "ok";
      el("handover-slip").textContent = sheet.print_preview || "";
      await loadSheets();
    } catch (error) {
      office.handle(error, "handover-msg");
    }
  }

  async function loadSheets() {
    try {
      const data = await call("GET", "/handovers");
      const box = el("sheets");
      box.replaceChildren(...data.sheets.map(sheetCard));
      if (!data.sheets.length) box.append(make("div", "还没有交接单", { className: "muted card" }));
    } catch (error) {
      office.handle(error, "handover-msg");
    }
  }

  function sheetCard(sheet) {
    const card = make("div", undefined, { className: "card sheet" });
    card.dataset.id = sheet.id;
    const state = sheet.kind === "results" ? "出件窗口逐件核验" : sheet.signed_at ? `${hallq.time(sheet.signed_at)} 由 ${sheet.signed_by.replace("user:", "")} 签收` : "待部门签收";
    card.append(make("h4", `《${sheet.title}》${sheet.id} · ${sheet.department} · ${state}`));
    card.append(make("div", `移交：${hallq.time(sheet.created_at)} ${sheet.created_by.replace("user:", "")}${sheet.late ? `；逾期交接 ${sheet.late} 件` : ""}`, { className: sheet.late ? "warn" : "muted" }));
    const table = make("table");
    const head = make("tr");
    ["收件编号", "事项", "申请人", "材料", "送达时限", "状态"].forEach((h) => head.append(make("th", h)));
    table.append(head);
    sheet.items.forEach((i) => {
      const tr = make("tr");
      const due = make("td", i.due_at ? hallq.time(i.due_at) : "—");
      if (i.late) due.append(make("span", "逾期", { className: "badge overdue" }));
      tr.append(make("td", i.receipt_no || "—"), make("td", i.item_name), make("td", i.masked_name), make("td", i.materials.join("、")), due, make("td", i.status_label));
      tr.addEventListener("click", () => { office.showCases(); office.openCase(i.case_id); });
      table.append(tr);
    });
    card.append(table);
    if (sheet.kind === "materials" && !sheet.signed_at && office.role() !== "clerk") {
      const sign = make("button", "签收纸质材料", { className: "sign" });
      sign.addEventListener("click", async () => {
        try {
          const signed = await call("POST", `/handovers/${sheet.id}/sign`);
          el("handover-msg").textContent = `已签收 ${signed.id}${signed.late ? `，其中逾期交接 ${signed.late} 件` : ""}`;
          el("handover-msg").className = signed.late ? "warn" : "ok";
          await loadSheets();
        } catch (error) {
          office.handle(error, "handover-msg");
        }
      });
      card.append(sign);
    }
    return card;
  }

  window.hallqDesks = { attach, hide };
})();
