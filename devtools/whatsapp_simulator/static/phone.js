// The patient's phone: polls the simulator's state and posts replies through its control API.
"use strict";

const TICKS = { accepted: "🕓", sent: "✓", delivered: "✓✓", read: "✓✓ read", failed: "failed" };
let state = null;
let selected = null; // "phone_number_id:wa_id"

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

async function control(path, body, method = "POST") {
  const response = await fetch("/_control/" + path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  const box = document.getElementById("error");
  if (!response.ok) {
    box.textContent = data.detail || "The simulator refused that (" + response.status + ").";
    box.hidden = false;
  } else {
    box.hidden = true;
  }
  await refresh();
  return data;
}

function key(conv) { return conv.phone_number_id + ":" + conv.wa_id; }

function numberName(pnid) {
  const number = state.numbers.find((n) => n.phone_number_id === pnid);
  return number ? number.verified_name + " (+" + number.display_phone_number + ")" : pnid;
}

function renderChats() {
  const list = document.getElementById("chat-list");
  list.replaceChildren(...state.conversations.map((conv) => el("li", {},
    el("button", {
      type: "button",
      "aria-current": String(key(conv) === selected),
      onclick: () => { selected = key(conv); render(); },
    }, "+" + conv.wa_id + (conv.name ? " " + conv.name : ""), el("br"),
      el("small", {}, numberName(conv.phone_number_id) +
        (conv.window_open ? " · window open" : " · window closed"))))));
  const select = document.getElementById("number-select");
  if (select.options.length !== state.numbers.length) {
    select.replaceChildren(...state.numbers.map((n) =>
      el("option", { value: n.phone_number_id }, numberName(n.phone_number_id))));
  }
}

function renderMessage(conv, message) {
  const item = el("li", { class: "msg " + message.direction });
  if (message.header) item.append(el("span", { class: "header" }, message.header));
  if (message.document) {
    const doc = message.document;
    const href = doc.media_id ? "/_control/media/" + encodeURIComponent(doc.media_id) : doc.link;
    item.append(el("a", { href, target: "_blank", rel: "noopener noreferrer" },
      "📄 " + (doc.filename || "document")), el("br"));
  }
  item.append(document.createTextNode(message.body || ""));
  if (message.footer) item.append(el("span", { class: "footer" }, message.footer));
  if (message.buttons && message.buttons.length) {
    item.append(el("div", { class: "quick" }, ...message.buttons.map((button) =>
      el("button", {
        type: "button",
        onclick: () => control("reply", {
          wa_id: conv.wa_id,
          phone_number_id: conv.phone_number_id,
          button_payload: button.payload,
          button_text: button.text,
          context_id: message.id,
        }),
      }, button.text))));
  }
  if (message.list && message.list.rows) {
    // An interactive list: each row is one tap (the phone shows them under the list's button).
    item.append(el("div", { class: "quick" }, el("strong", {}, message.list.button),
      ...message.list.rows.map((row) =>
        el("button", {
          type: "button",
          onclick: () => control("reply", {
            wa_id: conv.wa_id,
            phone_number_id: conv.phone_number_id,
            list_reply_id: row.id,
            context_id: message.id,
          }),
        }, row.title))));
  }
  const when = new Date(message.timestamp * 1000).toLocaleTimeString();
  const tick = message.direction === "out" ? " " + (TICKS[message.status] || message.status) : "";
  const label = message.template ? " · template " + message.template.name : "";
  item.append(el("span", { class: "meta" }, when + tick + label));
  return item;
}

function renderPhone() {
  const conv = state.conversations.find((c) => key(c) === selected);
  const head = document.getElementById("phone-head");
  const reply = document.getElementById("reply");
  const list = document.getElementById("messages");
  if (!conv) {
    head.textContent = "Pick a conversation";
    list.replaceChildren();
    reply.hidden = true;
    return;
  }
  head.textContent = "+" + conv.wa_id + " ← " + numberName(conv.phone_number_id) +
    (conv.unreachable ? " (unreachable)" : "");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.replaceChildren(...conv.messages.map((m) => renderMessage(conv, m)));
  if (atBottom) list.scrollTop = list.scrollHeight;
  reply.hidden = false;
}

function renderTools() {
  document.getElementById("templates").replaceChildren(...state.templates.map((t) =>
    el("li", {}, t.name + " (" + t.language + ", " + t.category.toLowerCase() + "): " + t.status, " ",
      t.status !== "APPROVED" ? el("button", { type: "button", class: "secondary",
        onclick: () => control("templates/status", { name: t.name, language: t.language, status: "APPROVED" }),
      }, "Approve") : null, " ",
      t.status === "PENDING" ? el("button", { type: "button", class: "secondary",
        onclick: () => control("templates/status", { name: t.name, language: t.language, status: "REJECTED" }),
      }, "Reject") : null)));
  document.getElementById("injections").replaceChildren(...state.injections.map((i) =>
    el("li", {}, i.code + " × " + (i.count === null ? "∞" : i.count) +
      (i.recipient ? " to +" + i.recipient : "") + " on " + i.endpoint +
      (i.via === "webhook" ? " (webhook)" : ""))));
  document.getElementById("webhook-url").textContent =
    "Webhooks go to: " + (state.webhooks.url || "(none configured)");
}

function render() {
  if (!state) return;
  if (!selected && state.conversations.length) selected = key(state.conversations[0]);
  renderChats();
  renderPhone();
  renderTools();
}

async function refresh() {
  try {
    const response = await fetch("/_control/state", { cache: "no-store" });
    state = await response.json();
    render();
  } catch (err) {
    // the simulator restarted or stopped; the next poll tries again
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("reply").addEventListener("submit", async (event) => {
    event.preventDefault();
    const [pnid, waId] = selected.split(":");
    const input = event.target.elements.text;
    await control("reply", { wa_id: waId, phone_number_id: pnid, text: input.value });
    input.value = "";
  });
  document.getElementById("new-chat").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target.elements;
    await control("reply", {
      wa_id: form.wa_id.value, name: form.name.value, text: form.text.value,
      phone_number_id: form.phone_number_id.value,
    });
    selected = form.phone_number_id.value + ":" + form.wa_id.value;
    render();
  });
  document.getElementById("inject").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target.elements;
    control("errors", {
      code: form.code.value, count: Number(form.count.value) || 1,
      recipient: form.recipient.value || null, via: form.via_webhook.checked ? "webhook" : "response",
    });
  });
  document.getElementById("clear-errors").addEventListener("click", () => control("errors", undefined, "DELETE"));
  document.getElementById("webhooks").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target.elements;
    control("webhooks", { order: form.order.value, duplicate: form.duplicate.checked });
  });
  refresh();
  setInterval(refresh, 1500);
});
