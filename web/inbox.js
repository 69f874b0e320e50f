// The operator inbox: every conversation on every channel (live, with unread counts), a transcript with its
// authors and media (inbox_media.js), a reply box that becomes a template picker when WhatsApp's 24-hour window is
// closed, take over / give back, assign, labels, a private note, and the ad that started the conversation. Text
// only, never HTML.

import { mediaNodes } from "./inbox_media.js";

const $ = (selector) => document.querySelector(selector);
const inbox = { socket: null, items: new Map(), open: null, templates: [], composer: "", onUnread: () => {} };

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" }) : "";
}

// "5 h 12 min left", "closed", or "" for channels without a window.
export function windowLeft(expiresAt, now = Date.now()) {
  if (!expiresAt) return "";
  const minutes = Math.floor((new Date(expiresAt).getTime() - now) / 60000);
  if (minutes <= 0) return "window closed";
  const hours = Math.floor(minutes / 60);
  return hours ? `${hours} h ${minutes % 60} min left` : `${minutes} min left`;
}

function windowOpen(item) {
  return !item.window_expires_at ? item.channel !== "whatsapp" : new Date(item.window_expires_at) > new Date();
}

function title(item) {
  return item.name || item.wa_id || item.peer_id;
}

function key() {
  return crypto.getRandomValues(new Uint32Array(3)).join("-");
}

// --- the list ------------------------------------------------------------------------------------------------------

function filters() {
  const params = { limit: 100 };
  for (const [name, id] of [["mode", "#inbox-mode"], ["channel", "#inbox-channel"], ["label", "#inbox-label"]]) {
    const value = $(id).value.trim();
    if (value) params[name] = value;
  }
  return params;
}

export async function loadInbox(socket, onUnread) {
  inbox.socket = socket;
  inbox.onUnread = onUnread;
  socket.on("conversation.message", onMessage);
  socket.on("conversation.updated", onUpdated);
  const page = await socket.request("conversations.list", filters());
  inbox.items = new Map(page.items.map((item) => [item.id, item]));
  renderList();
  const wanted = Number((location.hash.match(/^#inbox\/(\d+)$/) || [])[1]);
  if (wanted && wanted !== inbox.open) openConversation(wanted);
}

function renderList() {
  const list = $("#inbox-list");
  const items = [...inbox.items.values()].sort((a, b) => (b.last_message_at > a.last_message_at ? 1 : -1));
  list.replaceChildren(...items.map(listItem));
  if (!items.length) list.appendChild(el("li", "No conversations yet.", "empty"));
  inbox.onUnread(items.reduce((sum, item) => sum + item.unread, 0));
}

function listItem(item) {
  const li = el("li", null, `conversation${item.id === inbox.open ? " selected" : ""}`);
  li.dataset.id = item.id;
  const top = el("div", null, "row");
  top.append(el("strong", title(item)), el("span", item.channel, "badge"));
  if (item.wa_id && item.name) top.append(el("span", `+${item.wa_id}`, "muted"));
  if (item.mode === "human") top.append(el("span", item.assignee ? `human · ${item.assignee}` : "human", "badge human"));
  if (item.unread) top.append(el("span", item.unread, "badge unread"));
  const bottom = el("div", null, "row muted");
  bottom.append(el("span", item.last_message || "", "preview"), el("span", when(item.last_message_at), "time"));
  li.append(top, bottom);
  li.addEventListener("click", () => openConversation(item.id));
  return li;
}

function onUpdated(payload) {
  if (!payload.conversation) return;
  inbox.items.set(payload.conversation.id, payload.conversation);
  renderList();
  if (payload.conversation.id === inbox.open) renderHeader(payload.conversation);
}

function onMessage(payload) {
  if (payload.conversation_id === inbox.open) {
    appendMessage(payload.message);
    if (payload.message.direction === "in") inbox.socket.request("conversations.messages", { conversation_id: inbox.open, limit: 1 });
  }
}

// --- one conversation ----------------------------------------------------------------------------------------------

async function openConversation(id) {
  inbox.open = id;
  history.replaceState(null, "", `#inbox/${id}`);
  $("#inbox").classList.add("reading");
  const page = await inbox.socket.request("conversations.messages", { conversation_id: id, limit: 200 });
  inbox.items.set(id, { ...page.conversation, unread: 0 });
  renderList();
  renderHeader(page.conversation);
  $("#inbox-transcript").replaceChildren();
  for (const message of page.items) appendMessage(message);
}

function closeConversation() {
  inbox.open = null;
  history.replaceState(null, "", "#inbox");
  $("#inbox").classList.remove("reading");
  renderList();
}

function renderHeader(item) {
  $("#inbox-title").textContent = title(item);
  const facts = [item.channel, item.wa_id ? `+${item.wa_id}` : item.peer_id, item.mode === "human" ? `human${item.assignee ? " · " + item.assignee : ""}` : "bot answers"];
  const left = windowLeft(item.window_expires_at);
  if (left) facts.push(left);
  if (item.opted_out) facts.push("opted out");
  $("#inbox-facts").textContent = facts.join(" · ");
  const ad = item.source_ad;
  $("#inbox-ad").hidden = !ad && !item.qualification;
  $("#inbox-ad").textContent = [
    ad ? `From ad ${ad.ad_name || ad.headline || ad.ad_id}${ad.creative ? ` · creative ${ad.creative}` : ""}${ad.direction ? ` · ${ad.direction}` : ""}` : "",
    item.qualification ? `Qualification: ${item.qualification}` : "",
  ].filter(Boolean).join(" — ");
  $("#inbox-take").hidden = item.mode === "human";
  $("#inbox-give").hidden = item.mode !== "human";
  $("#inbox-assignee").value = item.assignee || "";
  $("#inbox-labels").value = (item.labels || []).join(", ");
  $("#inbox-note").value = item.note || "";
  renderComposer(item);
}

async function renderComposer(item) {
  const open = windowOpen(item) && !item.opted_out;
  const shown = `${item.id}:${open}:${item.opted_out}`;
  if (inbox.composer === shown) return; // a live update of the same state: keep what the operator typed
  inbox.composer = shown;
  $("#inbox-reply").hidden = !open;
  $("#inbox-template").hidden = open || item.opted_out;
  $("#inbox-closed").textContent = item.opted_out ? "The customer opted out: nothing more can be sent." : open ? "" : "The 24-hour window is closed: only an approved template can be sent.";
  if (!open && !item.opted_out) await loadTemplates();
}

async function loadTemplates() {
  const { items } = await inbox.socket.request("templates.list", {});
  inbox.templates = items;
  const select = $("#inbox-template-name");
  select.replaceChildren(...items.map((t, i) => new Option(`${t.name} (${t.language})`, String(i))));
  showTemplate();
}

function showTemplate() {
  const template = inbox.templates[Number($("#inbox-template-name").value)];
  $("#inbox-template-body").textContent = template ? template.body : "No approved templates.";
  const fields = [];
  for (let n = 1; template && n <= template.parameters; n++) {
    const input = el("input");
    input.placeholder = `{{${n}}}`;
    input.required = true;
    input.dataset.param = String(n);
    fields.push(input);
  }
  $("#inbox-template-params").replaceChildren(...fields);
}

// A message already shown (the transcript was read while the push was on its way) is replaced, not repeated.
function appendMessage(message) {
  const li = el("li", null, `msg ${message.direction === "in" ? "customer" : message.author}`);
  li.dataset.id = String(message.id);
  const author = message.author === "customer" ? message.author_name || "customer" : message.author === "operator" ? message.author_name || "operator" : message.author;
  li.append(el("span", `${author} · ${when(message.at)}${message.template ? ` · template ${message.template}` : ""}${message.status === "failed" ? " · not delivered" : ""}`, "meta"));
  const { text, nodes } = mediaNodes(message);
  if (text) li.append(el("span", text));
  li.append(...nodes);
  const shown = [...$("#inbox-transcript").children].find((node) => node.dataset.id === li.dataset.id);
  if (shown) return shown.replaceWith(li);
  $("#inbox-transcript").appendChild(li);
  li.scrollIntoView({ block: "end" });
}

async function act(method, params) {
  try {
    $("#inbox-error").textContent = "";
    return await inbox.socket.request(method, { conversation_id: inbox.open, ...params });
  } catch (error) {
    $("#inbox-error").textContent = error.message;
    if (error.code === "window_closed") renderComposer({ ...inbox.items.get(inbox.open), window_expires_at: new Date(0).toISOString() });
    return null;
  }
}

async function sendReply(event) {
  event.preventDefault();
  const text = $("#inbox-text").value.trim();
  if (!text) return;
  if (await act("conversations.reply", { text, idempotency_key: key() })) $("#inbox-text").value = "";
}

async function sendTemplate(event) {
  event.preventDefault();
  const template = inbox.templates[Number($("#inbox-template-name").value)];
  if (!template) return;
  const parameters = [...document.querySelectorAll("#inbox-template-params input")].map((input) => input.value.trim());
  await act("conversations.template", { name: template.name, language: template.language, parameters, idempotency_key: key() });
}

export function wireInbox(reload) {
  $("#inbox-back").addEventListener("click", closeConversation);
  $("#inbox-take").addEventListener("click", () => act("conversations.mode", { mode: "human" }));
  $("#inbox-give").addEventListener("click", () => act("conversations.mode", { mode: "bot" }));
  $("#inbox-assign").addEventListener("click", () => act("conversations.mode", { mode: inbox.items.get(inbox.open).mode, assignee: $("#inbox-assignee").value.trim() }));
  $("#inbox-save").addEventListener("click", () => act("conversations.update", {
    labels: $("#inbox-labels").value.split(",").map((l) => l.trim()).filter(Boolean),
    note: $("#inbox-note").value,
  }));
  $("#inbox-reply").addEventListener("submit", sendReply);
  $("#inbox-template").addEventListener("submit", sendTemplate);
  $("#inbox-template-name").addEventListener("change", showTemplate);
  for (const id of ["#inbox-mode", "#inbox-channel", "#inbox-label"]) $(id).addEventListener("change", reload);
}
