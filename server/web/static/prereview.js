"use strict";
// 网上预审 on the phone: pick the item, identify, photograph each material, send it to the department;
// after a 补正 the page (its link keeps the case and its key) asks only for what to fix.
(function () {
  const hall = location.pathname.split("/").filter(Boolean)[1];
  const params = new URLSearchParams(location.search);
  const pub = `/api/v1/public/halls/${encodeURIComponent(hall)}`;
  const el = (id) => document.getElementById(id);
  const LABEL = { provided: "已上传", missing: "待上传", deferred: "容缺" };
  const state = { id: params.get("case") || "", key: params.get("k") || "" };

  async function loadItems() {
    const book = await hallq.call("GET", `/api/v1/halls/${encodeURIComponent(hall)}/handbook`);
    const options = [new Option("请选择办理事项", "")];
    book.services.forEach((s) => s.items.filter((i) => i.kind === "promised").forEach((i) => options.push(new Option(`${i.name}（${s.department}）`, i.code))));
    el("item").replaceChildren(...options);
  }

  async function begin() {
    const body = { item: el("item").value, id_number: el("id-number").value.trim(), name: el("name").value.trim(), phone: el("phone").value.trim() };
    try {
      const started = await hallq.call("POST", `${pub}/prereviews`, body);
      state.id = started.id;
      state.key = started.access;
      history.replaceState(null, "", `?case=${encodeURIComponent(state.id)}&k=${encodeURIComponent(state.key)}`);
      await showCase();
    } catch (error) {
      el("start-msg").textContent = error.message;
    }
  }

  async function showCase() {
    const c = await hallq.call("GET", `${pub}/cases/${encodeURIComponent(state.id)}?k=${encodeURIComponent(state.key)}`);
    el("start").hidden = true;
    el("case").hidden = false;
    el("case-item").textContent = `${c.item_name}（${c.department}）`;
    el("case-status").textContent = c.status === "draft" ? "请逐项上传材料" : c.status_label;
    el("case-fix").textContent = c.status === "prereview_fix" && c.correction ? `请重新上传：${c.correction.materials.join("、")}${c.correction.note ? "（" + c.correction.note + "）" : ""}` : "";
    el("progress").href = `/c/${encodeURIComponent(hall)}/${encodeURIComponent(state.id)}?k=${encodeURIComponent(state.key)}`;
    const editable = ["draft", "prereview_fix"].includes(c.status);
    el("qr-box").hidden = c.status === "draft";
    if (c.status !== "draft") el("qr").src = `${pub}/cases/${encodeURIComponent(state.id)}/qr.svg?k=${encodeURIComponent(state.key)}`;
    el("send").hidden = !editable;
    el("materials").replaceChildren(...c.materials.map((m, idx) => material(m, idx, editable)));
  }

  function material(m, idx, editable) {
    const line = document.createElement("div");
    line.className = "material";
    const name = document.createElement("span");
    name.textContent = `${idx + 1}. ${m.name}`;
    const status = document.createElement("span");
    status.className = `state ${m.status === "provided" ? "ok" : "warn"}`;
    status.textContent = LABEL[m.status] || m.status;
    line.append(name, status);
    if (editable && m.status !== "provided") {
      const input = document.createElement("input");
      Object.assign(input, { type: "file", accept: "image/jpeg,image/png,application/pdf", className: "upload" });
      input.dataset.idx = String(idx);
      input.addEventListener("change", () => upload(idx, input.files[0]));
      line.append(document.createElement("br"), input);
    }
    return line;
  }

  async function upload(idx, file) {
    if (!file) return;
    const reply = await fetch(`${pub}/prereviews/${encodeURIComponent(state.id)}/materials/${idx}?k=${encodeURIComponent(state.key)}`, { method: "PUT", body: file });
    if (!reply.ok) {
      el("case-msg").textContent = (await reply.json()).detail || "上传失败";
      el("case-msg").className = "error";
      return;
    }
    el("case-msg").textContent = "";
    await showCase();
  }

  async function send() {
    try {
      await hallq.call("POST", `${pub}/prereviews/${encodeURIComponent(state.id)}/submit?k=${encodeURIComponent(state.key)}`);
      await showCase();
      el("case-msg").textContent = "已提交预审，部门将在2个工作日内答复";
      el("case-msg").className = "ok";
    } catch (error) {
      el("case-msg").textContent = error.message;
      el("case-msg").className = "error";
    }
  }

  el("begin").addEventListener("click", begin);
  el("send").addEventListener("click", send);
  hallq.hallName(hall, "hall");
  if (state.id && state.key) showCase().catch((error) => { el("start-msg").textContent = error.message; loadItems(); });
  else loadItems();
})();
