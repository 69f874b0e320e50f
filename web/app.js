// The Clawgate control UI: sign in with the tenant's gateway token (this browser is a device that an operator
// approves once), the operator inbox (inbox.js), chat with the tenant's agents (streamed replies), leads, dialogs, the CAPI log, metrics, usage.
// Everything goes over the control-plane WebSocket; no data is ever inserted as HTML.

import { ControlSocket, ProtocolError } from "./protocol.js";
import { metricsChart } from "./chart.js";
import { costPerLeadChart, duration, handoffChart } from "./conversation_metrics.js";
import { loadInbox, wireInbox } from "./inbox.js";

const $ = (selector) => document.querySelector(selector);
const state = { socket: null, tenant: "", agents: [], agent: "", cursors: {}, bubbles: new Map(), retry: null };
const store = { get: (k) => localStorage.getItem(k) ?? sessionStorage.getItem(k) };

function deviceId() {
  let id = localStorage.getItem("clawgate.device");
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    id = "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem("clawgate.device", id);
  }
  return id;
}

function deviceName() {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? "Firefox" : /Edg\//.test(ua) ? "Edge" : /Chrom/.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}

async function socketUrl() {
  try {
    const config = await fetch("config.json", { cache: "no-store" });
    if (config.ok) {
      const { websocket_url: url } = await config.json();
      if (url) return url;
    }
  } catch {
    // no config.json: the control plane is on this host
  }
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}

function show(section) {
  for (const id of ["sign-in", "pending", "app"]) $(`#${id}`).hidden = id !== section;
  $("#sign-out").hidden = section === "sign-in";
}

function setStatus(text, cls = "") {
  $("#status").textContent = text;
  $("#status").className = `status ${cls}`;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" }) : "";
}

// --- sign in -------------------------------------------------------------------------------------------------------

async function signIn(tenant, token) {
  clearTimeout(state.retry);
  setStatus("connecting…");
  const socket = new ControlSocket(await socketUrl());
  try {
    await socket.open();
    const welcome = await socket.request("connect", { tenant, token, device: deviceId(), name: deviceName() });
    started(socket, welcome);
  } catch (error) {
    socket.close();
    refused(error, tenant, token);
  }
}

function refused(error, tenant, token) {
  const code = error instanceof ProtocolError ? error.code : "network";
  if (code === "device_pending") {
    $("#pending [data-tenant]").textContent = tenant;
    $("#approve-command").textContent = `clawgate devices approve ${deviceId()} --tenant ${tenant}`;
    show("pending");
    setStatus("waiting for approval", "warn");
    state.retry = setTimeout(() => signIn(tenant, token), 5000);
    return;
  }
  if (code === "network" || code === "closed") {
    setStatus("offline, retrying…", "warn");
    state.retry = setTimeout(() => signIn(tenant, token), 3000);
    return;
  }
  forget();
  show("sign-in");
  setStatus("signed out");
  $("#sign-in-error").textContent = error.message;
}

function started(socket, welcome) {
  state.socket = socket;
  state.tenant = welcome.tenant;
  state.agents = welcome.agents;
  socket.onclose = () => {
    state.socket = null;
    setStatus("reconnecting…", "warn");
    state.retry = setTimeout(() => signIn(store.get("clawgate.tenant"), store.get("clawgate.token")), 2000);
  };
  socket.on("chat.typing", onTyping);
  socket.on("chat.delta", onDelta);
  socket.on("chat.final", onFinal);
  $("#tenant-name").textContent = welcome.tenant;
  setStatus("connected", "ok");
  show("app");
  const select = $("#agent");
  select.replaceChildren(...welcome.agents.map((a) => new Option(`${a.emoji ? a.emoji + " " : ""}${a.name} (${a.id})`, a.id)));
  if (state.agents.some((a) => a.id === state.agent)) select.value = state.agent;
  state.agent = select.value;
  if (location.hash.startsWith("#inbox")) openTab("inbox");
  else {
    loadHistory();
    openInbox().catch(() => {}); // the unread count on the Inbox tab, live from the start
  }
}

function setUnread(count) {
  const button = $("#tabs button[data-tab=inbox]");
  button.querySelector(".tab-count")?.remove();
  if (count > 0) {
    const badge = document.createElement("span");
    badge.className = "tab-count";
    badge.textContent = String(count);
    button.appendChild(badge);
  }
}

function openInbox() {
  return loadInbox(state.socket, setUnread);
}

function forget() {
  for (const s of [localStorage, sessionStorage]) ["clawgate.tenant", "clawgate.token"].forEach((k) => s.removeItem(k));
}

function signOut() {
  clearTimeout(state.retry);
  if (state.socket) state.socket.close();
  state.socket = null;
  forget();
  show("sign-in");
  setStatus("signed out");
}

// --- chat ----------------------------------------------------------------------------------------------------------

function bubble(role, text, cls = "") {
  const item = document.createElement("li");
  item.className = `msg ${role} ${cls}`;
  item.textContent = text;
  $("#messages").appendChild(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

async function loadHistory() {
  const input = $("#chat-input");
  input.disabled = true; // a message sent now would be wiped by the history arriving after it
  try {
    const { messages } = await state.socket.request("chat.history", { agent: state.agent, limit: 100 });
    $("#messages").replaceChildren();
    state.bubbles.clear();
    for (const m of messages) bubble(m.role, m.text);
  } finally {
    input.disabled = false;
  }
}

function pendingBubble(payload) {
  const key = payload.in_reply_to;
  if (key && state.bubbles.has(key)) return state.bubbles.get(key);
  if (payload.agent && payload.agent !== state.agent) return null;
  const item = bubble("assistant", "", "streaming");
  if (key) state.bubbles.set(key, item);
  return item;
}

function onTyping(payload) {
  if (payload.agent === state.agent) setStatus("agent is typing…", "ok");
}

function onDelta(payload) {
  const item = pendingBubble(payload);
  if (!item) return;
  item.classList.remove("waiting");
  item.textContent += payload.text;
  item.scrollIntoView({ block: "end" });
}

function onFinal(payload) {
  const item = pendingBubble(payload);
  setStatus("connected", "ok");
  if (!item) return;
  item.textContent = payload.text;
  item.classList.remove("streaming", "waiting");
  if (payload.in_reply_to) state.bubbles.delete(payload.in_reply_to);
}

async function sendChat(event) {
  event.preventDefault();
  const input = $("#chat-input");
  const text = input.value.trim();
  if (!text || !state.socket) return;
  const messageId = crypto.getRandomValues(new Uint32Array(2)).join("-");
  input.value = "";
  bubble("user", text);
  const reply = bubble("assistant", "", "streaming waiting");
  state.bubbles.set(`${deviceId()}:${messageId}`, reply);
  try {
    await state.socket.request("chat.send", { agent: state.agent, text, message_id: messageId });
  } catch (error) {
    reply.textContent = `Not sent: ${error.message}`;
    reply.className = "msg error";
  }
}

// --- tables --------------------------------------------------------------------------------------------------------

function row(cells) {
  const tr = document.createElement("tr");
  for (const value of cells) {
    const td = document.createElement("td");
    td.textContent = value ?? "";
    tr.appendChild(td);
  }
  return tr;
}

const TABLES = {
  leads: {
    method: "leads.list",
    params: () => ({ source: $("#lead-source").value || null }),
    cells: (l) => [when(l.created_at), l.name, l.phone || l.wa_id, l.source, l.ad_id, l.qualification, l.last_message],
  },
  dialogs: {
    method: "dialogs.list",
    params: () => ({ qualification: $("#dialog-qualification").value || null }),
    cells: (d) => [when(d.last_message_at), d.profile_name, d.wa_id || d.user_id, d.source, d.headline || d.ad_id, d.qualification, d.last_message],
  },
  capi: {
    method: "capi.log",
    params: () => ({}),
    cells: (e) => [when(e.created_at), `L${e.level}`, e.event_name, e.status, e.attempts, e.error],
  },
};

async function loadTable(name, more = false) {
  const table = TABLES[name];
  const params = { ...table.params(), limit: 50, cursor: more ? state.cursors[name] : null };
  const page = await state.socket.request(table.method, params);
  const body = $(`#${name}-table tbody`);
  if (!more) body.replaceChildren();
  for (const item of page.items) body.appendChild(row(table.cells(item)));
  if (!more && page.items.length === 0) body.appendChild(row(["nothing yet"]));
  state.cursors[name] = page.next_cursor;
  $(`[data-more="${name}"]`).hidden = !page.next_cursor;
}

async function loadMetrics() {
  const days = Number($("#metrics-days").value);
  const [metrics, usage] = await Promise.all([
    state.socket.request("metrics.summary", { days }),
    state.socket.request("usage.summary", { days: 7 }),
  ]);
  const money = (value) => (value === null ? "—" : `${value} ${metrics.currency}`);
  $("#metrics-totals").textContent = `${metrics.spend} ${metrics.currency} spent · ${metrics.leads} leads · ${money(metrics.cost_per_lead)} per lead · ${metrics.qualified} qualified · ${money(metrics.cost_per_qualified_lead)} per qualified lead`;
  const breakdown = [...metrics.by_direction.map((r) => ["direction", r]), ...metrics.by_creative.map((r) => ["creative", r]), ...metrics.by_ad.map((r) => ["ad", r])]
    .filter(([, r]) => r.key !== null)
    .map(([kind, r]) => row([kind, r.name ?? r.key, r.spend, r.leads, money(r.cost_per_lead), r.qualified, money(r.cost_per_qualified_lead)]));
  $("#quality-table tbody").replaceChildren(...(breakdown.length ? breakdown : [row(["no leads from ads yet"])]));
  $("#chart").replaceChildren(metrics.days.length ? metricsChart(metrics.days, metrics.currency, $("#chart").clientWidth) : document.createTextNode("No metrics synced yet."));
  const share = Math.min(usage.spent_today_usd / usage.budget_usd, 1);
  $("#usage-bar").style.width = `${(share * 100).toFixed(1)}%`;
  $("#usage-bar").className = share >= 0.9 ? "over" : "";
  $("#usage-text").textContent = `$${usage.spent_today_usd.toFixed(2)} of $${usage.budget_usd.toFixed(2)} today (${usage.timezone})`;
  await loadChanges();
  const rows = usage.today.map((u) => row([u.agent_id, u.model, u.calls, `${u.input_tokens} / ${u.output_tokens}`, u.cost_usd.toFixed(4)]));
  $("#usage-table tbody").replaceChildren(...(rows.length ? rows : [row(["no model calls today"])]));
  state.conversationMetrics = await state.socket.request("metrics.conversations", { days });
  showConversationMetrics();
}

function showConversationMetrics() {
  const m = state.conversationMetrics;
  if (!m) return;
  $("#frt-bot").textContent = duration(m.first_response_bot.median_seconds);
  $("#frt-human").textContent = duration(m.first_response_human.median_seconds);
  $("#resolved").textContent = m.resolved_share === null ? "—" : `${Math.round(m.resolved_share * 100)}% of ${m.conversations}`;
  $("#handoffs-total").textContent = String(m.handoffs_per_day.reduce((sum, d) => sum + d.count, 0));
  $("#handoff-chart").replaceChildren(handoffChart(m.handoffs_per_day, m.since, m.until, $("#handoff-chart").clientWidth));
  const groups = m.leads_by[$("#leads-by").value] || [];
  $("#cpl-chart").replaceChildren(costPerLeadChart(groups, m.currency, $("#cpl-chart").clientWidth));
}

async function loadChanges() {
  const { changes } = await state.socket.request("ads.changes", {});
  const items = changes.map((change) => {
    const item = document.createElement("li");
    const text = document.createElement("span");
    text.textContent = `#${change.id} ${change.text} — ${change.reason} (${change.requested_by})`;
    item.appendChild(text);
    for (const [label, approve] of [["Approve", true], ["Deny", false]]) {
      const button = document.createElement("button");
      button.textContent = label;
      button.addEventListener("click", async () => {
        const { result } = await state.socket.request("ads.decide", { change_id: change.id, approve });
        $("#ad-change-result").textContent = result;
        await loadChanges();
      });
      item.appendChild(button);
    }
    return item;
  });
  $("#ad-changes").replaceChildren(...(items.length ? items : [document.createTextNode("Nothing waits.")]));
}

async function loadDevices() {
  const { devices } = await state.socket.request("devices.list", {});
  const body = $("#devices-table tbody");
  body.replaceChildren();
  for (const d of devices) {
    const tr = row([d.device_id + (d.current ? " (this one)" : ""), d.name, d.status, when(d.last_seen_at)]);
    const actions = document.createElement("td");
    for (const [label, method, showIt] of [["Approve", "devices.approve", d.status !== "approved"], ["Revoke", "devices.revoke", d.status !== "revoked" && !d.current]]) {
      if (!showIt) continue;
      const button = document.createElement("button");
      button.textContent = label;
      button.onclick = async () => {
        await state.socket.request(method, { device: d.device_id });
        loadDevices();
      };
      actions.appendChild(button);
    }
    tr.appendChild(actions);
    body.appendChild(tr);
  }
}

const LOADERS = { chat: loadHistory, inbox: openInbox, leads: () => loadTable("leads"), dialogs: () => loadTable("dialogs"), capi: () => loadTable("capi"), metrics: loadMetrics, devices: loadDevices };

function openTab(name) {
  for (const button of document.querySelectorAll("#tabs button")) button.classList.toggle("active", button.dataset.tab === name);
  for (const tab of document.querySelectorAll(".tab")) tab.hidden = tab.id !== `tab-${name}`;
  LOADERS[name]().catch((error) => setStatus(error.message, "warn"));
}

// --- wiring --------------------------------------------------------------------------------------------------------

$("#sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const tenant = String(form.get("tenant")).trim();
  const token = String(form.get("token")).trim();
  forget();
  const keep = form.get("remember") ? localStorage : sessionStorage;
  keep.setItem("clawgate.tenant", tenant);
  keep.setItem("clawgate.token", token);
  $("#sign-in-error").textContent = "";
  signIn(tenant, token);
});
$("#sign-out").addEventListener("click", signOut);
$("#pending-cancel").addEventListener("click", signOut);
$("#chat-form").addEventListener("submit", sendChat);
$("#chat-input").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) sendChat(event);
});
$("#agent").addEventListener("change", (event) => {
  state.agent = event.target.value;
  loadHistory();
});
$("#tabs").addEventListener("click", (event) => {
  if (event.target.dataset.tab) openTab(event.target.dataset.tab);
});
$("#lead-source").addEventListener("change", () => loadTable("leads"));
$("#dialog-qualification").addEventListener("change", () => loadTable("dialogs"));
$("#metrics-days").addEventListener("change", loadMetrics);
$("#leads-by").addEventListener("change", showConversationMetrics);
wireInbox(() => openInbox());
for (const button of document.querySelectorAll("[data-more]")) button.addEventListener("click", () => loadTable(button.dataset.more, true));

// `make dev` prints a sign-in link, /#tenant=…&token=…: a fragment never reaches a server or its logs. The token is
// kept for this tab only and taken out of the address bar and the history at once.
function signInFromLink() {
  const link = new URLSearchParams(location.hash.slice(1));
  const [tenant, token] = [link.get("tenant"), link.get("token")];
  if (!tenant || !token) return;
  history.replaceState(null, "", location.pathname + location.search);
  forget();
  sessionStorage.setItem("clawgate.tenant", tenant);
  sessionStorage.setItem("clawgate.token", token);
}

signInFromLink();
if (store.get("clawgate.tenant") && store.get("clawgate.token")) signIn(store.get("clawgate.tenant"), store.get("clawgate.token"));
else show("sign-in");
