"use strict";
(function () {
  const { hall, id, key } = hallq.parts();
  const url = `/api/v1/public/halls/${encodeURIComponent(hall)}/cases/${encodeURIComponent(id)}?k=${encodeURIComponent(key)}`;
  const caseApi = `/api/v1/halls/${encodeURIComponent(hall)}/cases/${encodeURIComponent(id)}/evaluation`;
  const q = `?k=${encodeURIComponent(key)}`;
  const rating = hallqRate.mount(document.getElementById("rating"), {
    hall, state: caseApi + q, rate: caseApi + q, followUp: `${caseApi}/follow-up${q}`,
  }, { what: "本次办件", phoneHint: "不填则用申请时登记的电话回访；号码只用于回访，页面和记录中只显示部分号码。" });
  const materialLabel = { provided: "已提交", deferred: "容缺，待补交", missing: "需补交" };

  function list(elementId, items, render) {
    const element = document.getElementById(elementId);
    element.replaceChildren(...items.map((item) => {
      const li = document.createElement("li");
      li.textContent = render(item);
      return li;
    }));
  }

  function show(c) {
    hallq.text("receipt", c.receipt_no || "（尚未完成提交）");
    hallq.text("item", `${c.item_name}（${c.department}）`);
    // 转报: a case decided at another hall says where, and how far it has come there
    const where = c.elsewhere ? `（办理地：${c.elsewhere.hall_name}，${c.elsewhere.status_label}）` : "";
    hallq.text("status", c.status_label + where + (c.overdue.length ? "（已超期，请联系窗口）" : ""));
    hallq.text("applicant", c.masked_name ? `申请人：${c.masked_name}` : "");
    hallq.text("kind", c.kind === "promised" ? `承诺件，${c.promised_days} 个工作日办结` : "即办件");
    hallq.text("accept-due", c.deadlines.accept_due || "—");
    hallq.text("decide-due", c.deadlines.decide_due || "受理后计算");
    // the row only where something was deferred (容缺); its date is counted from acceptance
    const deferred = c.materials.some((m) => m.status === "deferred");
    document.getElementById("deferred-row").hidden = !deferred && !c.deadlines.deferred_due;
    hallq.text("deferred-due", c.deadlines.deferred_due || "受理后起算，受理时告知");
    let collect = `${c.collect.where}（${c.collect.address}），工作日办理时间内领取`;
    if (c.delivery === "post") collect = `已邮寄，邮件单号 ${c.tracking_no}`;
    if (c.status === "ready") collect = `结果已可领取：${c.collect.where}（${c.collect.address}）`;
    hallq.text("collect", collect);
    hallq.text("phone", c.collect.phone || "政务服务中心");
    const correcting = c.status === "correction" && c.correction;
    document.getElementById("correction").hidden = !correcting;
    if (correcting) {
      hallq.text("correction-list", c.correction.materials.join("、"));
      hallq.text("correction-note", c.correction.note || "");
    }
    list("materials", c.materials, (m) => `${m.name}：${materialLabel[m.status] || m.status}`);
    list("history", c.history, (h) => `${hallq.time(h.at)}  ${h.label}`);
  }

  hallq.hallName(hall, "hall");
  hallq.call("GET", url).then((c) => {
    show(c);
    rating.update(c.status === "delivered" || c.status === "archived"); // 一事一评 once it is delivered
  }).catch((error) => {
    hallq.text("status", "无法查询");
    hallq.text("applicant", error.message);
  });
})();
