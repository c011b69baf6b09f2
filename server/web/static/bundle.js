"use strict";
// A 一件事's page (its receipt's QR): the one promise, each part's department and state, where to collect.
(function () {
  const { hall, id, key } = hallq.parts();
  const url = `/api/v1/public/halls/${encodeURIComponent(hall)}/bundles/${encodeURIComponent(id)}?k=${encodeURIComponent(key)}`;
  const DONE = ["result_sent", "ready", "delivered", "receipt_returned", "archived"];

  function part(p) {
    const box = document.createElement("div");
    box.className = "part";
    const name = document.createElement("div");
    const title = document.createElement("span");
    title.className = "name";
    title.textContent = `${p.item_name}（${p.department}）`;
    const state = document.createElement("span");
    state.className = `state${DONE.includes(p.status) ? " done" : ""}`;
    state.textContent = p.status_label + (p.overdue.length ? "（已超期）" : "");
    name.append(title, state);
    box.append(name);
    if (p.after.length) {
      const after = document.createElement("div");
      after.className = "after muted";
      after.textContent = `在「${p.after.join("、")}」办结后办理`;
      box.append(after);
    }
    return box;
  }

  function show(b) {
    hallq.text("receipt", b.receipt_no);
    hallq.text("name", `${b.name}（一件事，${b.parts.length}项）`);
    hallq.text("status", b.status_label);
    hallq.text("applicant", b.masked_name ? `申请人：${b.masked_name}` : "");
    hallq.text("promise", `${b.promised_due}前（${b.promised_days}个工作日）`);
    hallq.text("collect", `全部办结后一次领取：${b.collect.where}（${b.collect.address}）`);
    hallq.text("phone", b.collect.phone || "政务服务中心");
    document.getElementById("parts").replaceChildren(...b.parts.map(part));
  }

  hallq.hallName(hall, "hall");
  hallq.call("GET", url).then(show).catch((error) => {
    hallq.text("status", "无法查询");
    hallq.text("applicant", error.message);
  });
})();
