// The mtakit web UI: a message list with live updates, a message view and
// SMTP session transcripts. Plain JavaScript modules, no build step, no
// external assets. This module routes, listens to live events and starts
// everything; the others are in /ui/ (see dom.js for the safety rule every
// module follows).

import { $, api, enc, refreshTimes } from "./ui/dom.js";
import { state } from "./ui/state.js";
import { loadMessages, markSelected, onNewMessage, onSearchInput } from "./ui/list.js";
import { deleteAll, onDeleted, openMessage, renderDetail } from "./ui/message.js";
import { loadSessions, onSession } from "./ui/sessions.js";

function parseHash() {
  const hash = location.hash.replace(/^#\/?/, "");
  const parts = hash.split("/").filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch (_) { return p; } });
  if (parts[0] === "sessions") return { view: "sessions", id: parts[1] || null };
  if (parts[0] === "messages" && parts[1]) return { view: "messages", id: parts[1] };
  return { view: "messages", id: null };
}

function onRoute() {
  if (!location.hash || location.hash === "#" || location.hash === "#/") {
    history.replaceState(null, "", "#/messages");
  }
  state.route = parseHash();
  const messages = state.route.view === "messages";
  $("messages-view").hidden = !messages;
  $("sessions-view").hidden = messages;
  $("nav-messages").classList.toggle("active", messages);
  $("nav-sessions").classList.toggle("active", !messages);
  if (messages) {
    $("messages-view").classList.toggle("has-detail", Boolean(state.route.id));
    markSelected();
    if (state.route.id) {
      if (state.route.id !== state.detailId) openMessage(state.route.id);
    } else {
      state.detail = null;
      state.detailId = null;
      renderDetail();
    }
    document.title = "mtakit";
  } else {
    if (state.route.id) state.expanded.add(state.route.id);
    loadSessions();
    document.title = "Sessions · mtakit";
  }
}

// ------------------------------------------------------------ live events

let source = null;
let hadError = false;
function setLive(kind, text) {
  $("live").setAttribute("data-state", kind);
  $("live-text").textContent = text;
}

function connectEvents() {
  if (!window.EventSource) {
    setLive("closed", "No live updates");
    return;
  }
  source = new EventSource("/api/events");
  source.addEventListener("open", () => {
    setLive("open", "Live");
    // Catch up on whatever happened while disconnected.
    if (hadError) {
      hadError = false;
      loadMessages();
      if (state.route.view === "sessions") loadSessions();
    }
  });
  source.addEventListener("error", () => {
    hadError = true;
    setLive(source.readyState === EventSource.CLOSED ? "closed" : "connecting", source.readyState === EventSource.CLOSED ? "Offline" : "Reconnecting");
    if (source.readyState === EventSource.CLOSED) setTimeout(connectEvents, 3000);
  });
  const parse = (event) => {
    try { return JSON.parse(event.data); } catch (_) { return null; }
  };
  source.addEventListener("message", (event) => onNewMessage(parse(event)));
  source.addEventListener("session", (event) => onSession(parse(event)));
  source.addEventListener("deleted", (event) => {
    const data = parse(event);
    onDeleted(data ? data.id : null);
  });
}

// --------------------------------------------------------------- keyboard

function onKey(event) {
  const target = event.target;
  const typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable);
  if (event.key === "Escape" && typing) {
    target.blur();
    return;
  }
  if (typing || event.metaKey || event.ctrlKey || event.altKey) return;
  if (event.key === "/") {
    event.preventDefault();
    location.hash = state.route.view === "messages" ? location.hash : "#/messages";
    $("search").focus();
  } else if ((event.key === "j" || event.key === "k") && state.route.view === "messages" && state.messages.length) {
    const index = state.messages.findIndex((m) => m.id === state.route.id);
    let next = event.key === "j" ? index + 1 : index - 1;
    if (index === -1) next = 0;
    next = Math.max(0, Math.min(state.messages.length - 1, next));
    location.hash = "#/messages/" + enc(state.messages[next].id);
    const li = $("message-list").children[next];
    if (li) li.scrollIntoView({ block: "nearest" });
  }
}

// ------------------------------------------------------------------ start

async function start() {
  try {
    state.relay = (await api("/api/relay")).relay;
  } catch (_) {
    // No relay information: no release button.
  }
  $("search").addEventListener("input", onSearchInput);
  for (const id of ["filter-from", "filter-to", "filter-subject"]) $(id).addEventListener("input", onSearchInput);
  $("filter-toggle").addEventListener("click", () => {
    const filtersEl = $("filters");
    filtersEl.hidden = !filtersEl.hidden;
    $("filter-toggle").setAttribute("aria-expanded", filtersEl.hidden ? "false" : "true");
    $("filter-toggle").classList.toggle("active", !filtersEl.hidden);
  });
  $("delete-all").addEventListener("click", deleteAll);
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", onRoute);
  setInterval(refreshTimes, 15000);

  connectEvents();
  onRoute();
  loadMessages();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
