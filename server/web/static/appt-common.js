// Shared by the booking pages: times as the hall gives them (its own zone, so the phone's zone does
// not matter), and the booking's QR image.
"use strict";
const hallqAppt = {
  WEEK: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
  hhmm(iso) { return iso.slice(11, 16); },
  // "2026-12-07" → "12月7日 周一"
  day(isoDate) {
    const [y, m, d] = isoDate.slice(0, 10).split("-").map(Number);
    const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
    return `${m}月${d}日 ${hallqAppt.WEEK[weekday]}`;
  },
  addDays(isoDate, days) {
    const [y, m, d] = isoDate.split("-").map(Number);
    return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
  },
  span(start, end) { return `${hallqAppt.day(start)} ${hallqAppt.hhmm(start)}–${hallqAppt.hhmm(end)}`; },
  // A booking (AppointmentView) into the elements both pages share: done-service, done-when, done-code,
  // done-qr, done-checkin.
  render(view, statusUrl) {
    hallq.text("done-service", `${view.service_name}`);
    hallq.text("done-when", hallqAppt.span(view.start, view.end));
    hallq.text("done-code", view.code);
    document.getElementById("done-qr").src = hallqAppt.qrSrc(statusUrl);
    hallq.text("done-checkin",
      `请于 ${hallqAppt.hhmm(view.check_in_from)}–${hallqAppt.hhmm(view.check_in_until)} 之间到大厅签到取号，` +
      "签到后优先叫号。");
  },
  qrSrc(statusUrl) {
    const url = new URL(statusUrl, location.href);
    return `${url.pathname}/qr.svg${url.search}`;
  },
};
