"use strict";
(function () {
  const segments = location.pathname.split("/").filter(Boolean);
  const hall = segments[1];
  const id = segments[3];
  const key = new URLSearchParams(location.search).get("k") || "";
  const api = `/api/v1/halls/${encodeURIComponent(hall)}/appointments/${encodeURIComponent(id)}`;
  const q = `?k=${encodeURIComponent(key)}`;
  const STATUS = { booked: "ok", checked_in: "ok", cancelled: "gone", no_show: "warn" };

  function show(view) {
    hallq.text("hall", `${view.hall_name} · 我的预约`);
    const status = document.getElementById("status");
    status.textContent = view.status_label;
    status.className = `status ${STATUS[view.status] || ""}`;
    hallqAppt.render(view, location.href);
    hallq.text("address", view.hall_address ? `地址：${view.hall_address}` : "");
    const standing = view.status === "booked";
    document.getElementById("done-qr").hidden = !standing;
    document.getElementById("notice").hidden = !standing;
    document.getElementById("done-code").classList.toggle("gone", !standing);
    document.getElementById("actions").hidden = !standing;
  }

  async function refresh() {
    try {
      show(await hallq.call("GET", api + q));
    } catch (error) {
      hallq.text("status", "无法查询");
      hallq.text("done-checkin", error.message);
      document.getElementById("done-qr").hidden = true;
    }
  }

  document.getElementById("cancel").addEventListener("click", async () => {
    if (!window.confirm("确定取消这个预约吗？")) return;
    const message = document.getElementById("message");
    try {
      show(await hallq.call("POST", `${api}/cancel${q}`));
      message.className = "ok";
      message.textContent = "预约已取消，名额已释放。";
      document.getElementById("actions").hidden = false;
      document.getElementById("cancel").hidden = true;
    } catch (error) {
      message.className = "error";
      message.textContent = error.message;
    }
  });
  refresh();
})();
