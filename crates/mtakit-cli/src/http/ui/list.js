// The message list: loading it, drawing it, and keeping it live as
// messages arrive.

import { $, api, clear, displayAddress, enc, formatSize, h, plural, recipients, seen, timeEl } from "./dom.js";
import { filtering, listQuery, state } from "./state.js";

let listSeq = 0;
// Messages in a page of GET /api/messages without `limit` (PAGE_DEFAULT).
const LIST_PAGE = 200;
export async function loadMessages() {
  const seq = ++listSeq;
  const wasFiltering = filtering();
  try {
    const body = await api(listQuery());
    if (seq !== listSeq) return;
    state.messages = Array.isArray(body.messages) ? body.messages : [];
    state.listTotal = typeof body.total === "number" ? body.total : state.messages.length;
    if (!wasFiltering) state.total = state.listTotal;
    state.listError = null;
  } catch (error) {
    if (seq !== listSeq) return;
    state.listError = error.message;
  }
  state.loaded = true;
  renderList();
  renderCount();
  if (wasFiltering) refreshTotal();
}

// The header's count is of every message, whatever the filters.
export async function refreshTotal() {
  try {
    const body = await api("/api/messages?limit=0");
    state.total = typeof body.total === "number" ? body.total : (body.messages || []).length;
    renderCount();
  } catch (_) { /* the list shows errors */ }
}

export function renderCount() {
  $("message-count").textContent = String(state.total);
  $("message-count").classList.toggle("zero", state.total === 0);
  $("delete-all").disabled = state.total === 0;
  $("placeholder-text").textContent = state.total === 0 ? "Waiting for mail…" : "Select a message to read it.";
}

function messageItem(m) {
  const unread = !seen.has(m.id);
  const findings = typeof m.findings === "number" ? m.findings : Array.isArray(m.findings) ? m.findings.length : 0;
  const subject = m.subject === null || m.subject === undefined || m.subject === "" ? null : String(m.subject);
  const li = h("li", { class: "message-item" + (unread ? " unread" : "") + (state.freshIds.has(m.id) ? " fresh" : ""), "data-id": m.id },
    h("a", { class: "message-link", href: "#/messages/" + enc(m.id) },
      h("div", { class: "mi-row" },
        h("span", { class: "mi-dot", "aria-hidden": "true" }),
        h("span", { class: "mi-from", text: displayAddress(m.from) }),
        timeEl(m.received_at, "mi-time")),
      h("div", { class: "mi-subject" + (subject ? "" : " none"), text: subject || "(no subject)" }),
      h("div", { class: "mi-row mi-meta" },
        h("span", { class: "mi-to", text: "to " + (recipients(m.to) || "nobody") }),
        findings > 0 ? h("span", { class: "badge badge-warn", title: plural(findings, "finding") + ": open the message to see them", text: "⚠ " + findings }) : null,
        h("span", { class: "mi-size", text: formatSize(m.size) }))));
  return li;
}

export function renderList() {
  const list = $("message-list");
  clear(list);
  for (const m of state.messages) list.appendChild(messageItem(m));
  markSelected();

  const empty = state.messages.length === 0;
  $("list-empty").hidden = !(empty && state.loaded);
  if (state.listError) {
    $("list-empty-title").textContent = "Could not load messages";
    $("list-empty-text").textContent = state.listError;
  } else if (filtering()) {
    $("list-empty-title").textContent = "No matching messages";
    $("list-empty-text").textContent = "Nothing matches the search. Clear it to see every message.";
  } else {
    $("list-empty-title").textContent = "No messages yet";
    $("list-empty-text").textContent = "Mail sent to this server's SMTP port shows up here the moment it arrives. No need to reload.";
  }
  $("list-empty").classList.toggle("error", Boolean(state.listError));

  let status = "";
  if (state.loaded && !state.listError) {
    if (filtering()) status = plural(state.listTotal, "match", "matches");
    else status = plural(state.listTotal, "message");
    if (state.listTotal > state.messages.length) status += ", showing the newest " + state.messages.length;
  }
  $("list-status").textContent = status;
}

export function markSelected() {
  const id = state.route.view === "messages" ? state.route.id : null;
  for (const li of $("message-list").children) {
    const selected = li.getAttribute("data-id") === id;
    li.classList.toggle("selected", selected);
    const link = li.firstChild;
    if (selected) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
}

function summaryMatches(m) {
  // Filters run on the server; with any set, a new message triggers a
  // reload instead of being added here.
  return !filtering();
}

export function onNewMessage(m) {
  if (!m || !m.id) return;
  if (state.messages.some((x) => x.id === m.id)) return;
  state.total += 1;
  renderCount();
  if (!summaryMatches(m)) {
    scheduleReload();
    return;
  }
  state.messages.unshift(m);
  state.listTotal += 1;
  state.freshIds.add(m.id);
  setTimeout(() => state.freshIds.delete(m.id), 3000);
  const list = $("message-list");
  list.insertBefore(messageItem(m), list.firstChild);
  // The list holds one page (the server's default, 200) at most.
  while (state.messages.length > LIST_PAGE) {
    const gone = state.messages.pop();
    const li = list.querySelector('li[data-id="' + CSS.escape(gone.id) + '"]');
    if (li) li.remove();
  }
  state.loaded = true;
  renderListChrome();
}

export function renderListChrome() {
  // Status line and empty state without rebuilding the list.
  $("list-empty").hidden = !(state.messages.length === 0 && state.loaded);
  let status = filtering() ? plural(state.listTotal, "match", "matches") : plural(state.listTotal, "message");
  if (state.listTotal > state.messages.length) status += ", showing the newest " + state.messages.length;
  $("list-status").textContent = state.loaded ? status : "";
  markSelected();
}

let reloadTimer = null;
function scheduleReload() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(loadMessages, 150);
}

let searchTimer = null;
export function onSearchInput() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(loadMessages, 250);
}
