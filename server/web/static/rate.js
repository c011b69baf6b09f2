// The 好差评 card of the ticket page and the case page (DESIGN.md §11): the five national levels as big
// buttons, the chosen level's reasons, a comment, an optional phone for the callback (实名); after
// rating, thanks and the order's progress; once the order is rectified, the one 追评.
"use strict";
const hallqRate = {
  // card: the page's empty <div id="rating">; urls: {hall, state, rate, rateBody?, followUp};
  // words: {what: 本次服务 / 本次办件, phoneHint}
  mount(card, urls, words) {
    const MOBILE = /^1[3-9]\d{9}$/;
    let options = null;
    let mode = "hidden"; // hidden | rate | follow (a form the citizen is filling) | thanks
    let lastReady = false;

    function el(tag, props, ...children) {
      const node = document.createElement(tag);
      Object.assign(node, props || {});
      node.append(...children.filter((c) => c !== null && c !== undefined));
      return node;
    }

    async function levels() {
      if (!options) options = await hallq.call("GET", `/api/v1/halls/${encodeURIComponent(urls.hall)}/evaluations/options`);
      return options.levels.slice().sort((a, b) => b.score - a.score); // 非常满意 first
    }

    // The form: levels, then the chosen level's reasons, a comment, a phone; `send` posts the body.
    async function form(title, intro, send) {
      const all = await levels();
      let chosen = null;
      const reasons = el("div", { className: "reasons", id: "reasons" });
      const comment = el("textarea", { id: "comment", rows: 3, maxLength: 500, placeholder: "意见建议（可不填）" });
      const phone = el("input", { id: "contact-phone", type: "tel", inputMode: "numeric", maxLength: 11,
        placeholder: "11位手机号（可不填）", autocomplete: "tel" });
      const sendButton = el("button", { id: "send-rating", className: "send", disabled: true, textContent: "提交评价" });
      const msg = el("div", { id: "rating-msg", className: "msg" });
      const reasonBlock = el("div", { hidden: true },
        el("label", { textContent: "原因（可多选）" }), reasons,
        el("label", { htmlFor: "comment", textContent: "意见建议" }), comment,
        el("label", { htmlFor: "contact-phone", textContent: "回访电话" }), phone,
        el("p", { className: "hint", textContent: words.phoneHint }));
      const buttons = all.map((level) => {
        const b = el("button", { type: "button", textContent: level.label });
        b.dataset.score = String(level.score);
        b.setAttribute("aria-pressed", "false");
        b.addEventListener("click", () => {
          chosen = level;
          buttons.forEach((x) => {
            x.classList.toggle("on", x === b);
            x.setAttribute("aria-pressed", String(x === b));
          });
          reasons.replaceChildren(...level.reasons.map((r) => {
            const rb = el("button", { type: "button", textContent: r.label });
            rb.dataset.code = r.code;
            rb.setAttribute("aria-pressed", "false");
            rb.addEventListener("click", () => rb.setAttribute("aria-pressed",
              String(rb.getAttribute("aria-pressed") !== "true")));
            return rb;
          }));
          reasonBlock.hidden = false;
          sendButton.disabled = false;
          msg.textContent = "";
        });
        return b;
      });
      sendButton.addEventListener("click", async () => {
        const number = phone.value.replace(/\s/g, "");
        if (number && !MOBILE.test(number)) {
          msg.className = "msg error";
          msg.textContent = "手机号应为11位数字，以1开头；也可以不填。";
          return;
        }
        const body = { score: chosen.score, channel: "qr",
          reasons: [...reasons.querySelectorAll("button[aria-pressed='true']")].map((b) => b.dataset.code) };
        if (comment.value.trim()) body.comment = comment.value.trim();
        if (number) body.contact_phone = number;
        sendButton.disabled = true;
        try {
          await send(body);
          mode = "hidden";
          await render(lastReady);
        } catch (error) {
          sendButton.disabled = false;
          msg.className = "msg error";
          msg.textContent = error.message;
        }
      });
      return [el("h2", { textContent: title }), el("p", { className: "hint", textContent: intro }),
        el("div", { className: "levels", id: "stars" }, ...buttons), reasonBlock, sendButton, msg];
    }

    function summary(rating, who) {
      const why = rating.reasons.map((r) => r.label).join("、");
      return el("p", { className: "summary", textContent: `${who}：${rating.level}${why ? `（${why}）` : ""}` });
    }

    async function thanks(state) {
      const rating = state.rating;
      const parts = [el("div", { className: "thanks", textContent: "感谢您的评价！" }), summary(rating, "您的评价")];
      if (rating.is_bad && state.order_status) {
        const callback = rating.real_name ? `整改后将致电 ${rating.masked_phone} 回访。` : "";
        parts.push(el("div", { className: "state", id: "order-state" },
          el("p", { textContent: `您的意见已转交值班主任核实整改。${callback}` }),
          el("p", { textContent: `整改进度：${state.order_status_label}` })));
      }
      if (state.follow_up) {
        parts.push(summary(state.follow_up, "您的追评"), el("p", { className: "thanks", textContent: "感谢您的追评！" }));
      } else if (state.follow_up_open) {
        mode = "follow";
        parts.push(...await form("整改已完成，欢迎追评", "请对整改后的服务再评价一次（追评只有一次）。",
          (body) => hallq.call("POST", urls.followUp, body)));
      }
      return parts;
    }

    // One update at a time, in order: the page's refresh and a just-sent rating never render twice.
    let queue = Promise.resolve();
    function update(ready) {
      queue = queue.then(() => render(ready), () => render(ready));
      return queue;
    }

    async function render(ready) {
      lastReady = ready;
      if (mode === "rate" || mode === "follow") return; // the citizen is filling the form: leave it alone
      let state;
      try {
        state = await hallq.call("GET", urls.state);
      } catch (error) {
        return; // the page's own status line says what went wrong
      }
      if (state.rating) {
        mode = "thanks";
        card.replaceChildren(...await thanks(state));
      } else if (ready) {
        mode = "rate";
        card.replaceChildren(...await form(`请您评价${words.what}`, "点选一项满意程度，再选原因（可不选）。",
          (body) => hallq.call("POST", urls.rate, Object.assign({}, urls.rateBody || {}, body))));
      } else {
        mode = "hidden";
      }
      card.hidden = mode === "hidden";
    }

    card.classList.add("rate");
    return { update };
  },
};
