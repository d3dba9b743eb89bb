// SMTP sessions: the list of summaries, and a transcript fetched when one
// is opened.

import { $, api, clear, enc, formatDuration, formatOffset, h, plural, timeEl } from "./dom.js";
import { state } from "./state.js";

// The list holds summaries only; a transcript is fetched when it is
// opened (GET /api/sessions/{id}) and kept while its session is listed.
const SESSIONS_KEPT = 200;
let sessionsSeq = 0;
export async function loadSessions() {
  const seq = ++sessionsSeq;
  try {
    const body = await api("/api/sessions");
    if (seq !== sessionsSeq) return;
    state.sessions = Array.isArray(body.sessions) ? body.sessions : [];
    state.sessionsError = null;
  } catch (error) {
    if (seq !== sessionsSeq) return;
    state.sessionsError = error.message;
  }
  state.sessionsLoaded = true;
  forgetTranscripts();
  renderSessions();
}

function forgetTranscripts() {
  const listed = new Set(state.sessions.map((s) => String(s.id)));
  for (const key of state.transcripts.keys()) if (!listed.has(key)) state.transcripts.delete(key);
}

async function loadTranscript(key) {
  if (state.transcripts.has(key)) return;
  state.transcripts.set(key, { loading: true });
  try {
    const record = await api("/api/sessions/" + enc(key));
    state.transcripts.set(key, { record });
  } catch (error) {
    state.transcripts.set(key, { error: error.status === 404 ? "This session is no longer kept." : error.message });
  }
  if (state.route.view === "sessions") renderSessions();
}

// `closed` (after QUIT), `client closed`, or an error text.
function endClass(end) {
  const e = String(end || "").toLowerCase();
  if (!e) return "pill-muted";
  if (e === "closed" || e === "quit") return "pill-ok";
  if (e === "client closed") return "pill-muted";
  return "pill-bad";
}

function messageCount(value) {
  if (Array.isArray(value)) return value.length;
  return typeof value === "number" ? value : 0;
}

const KIND = {
  command: ["C:", "entry-command"],
  reply: ["S:", "entry-reply"],
  message: ["MSG", "entry-message"],
  tls: ["TLS", "entry-tls"],
  end: ["END", "entry-end"],
  omitted: ["…", "entry-end"],
};

function renderTranscript(key) {
  const box = h("div", { class: "transcript", role: "log", "aria-label": "Transcript" });
  const loaded = state.transcripts.get(key);
  if (!loaded || loaded.loading) {
    box.appendChild(h("div", { class: "muted pad", text: "Loading the transcript…" }));
    return box;
  }
  if (loaded.error) {
    box.appendChild(h("div", { class: "muted pad", text: "Could not load the transcript: " + loaded.error }));
    return box;
  }
  const s = loaded.record;
  const entries = Array.isArray(s.entries) ? s.entries : [];
  if (s.tls) {
    box.appendChild(h("div", { class: "transcript-note", text: "TLS: " + [s.tls.version, s.tls.cipher, s.tls.sni ? "SNI " + s.tls.sni : null].filter(Boolean).join(" · ") }));
  }
  if (entries.length === 0) box.appendChild(h("div", { class: "muted pad", text: "No transcript recorded." }));
  for (const entry of entries) {
    const [prefix, cls] = KIND[entry.kind] || [String(entry.kind || "?"), "entry-other"];
    // A multiline reply gets one row per line, the time on the first.
    const lines = String(entry.text === undefined ? "" : entry.text).split(/\r?\n/);
    if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
    lines.forEach((line, i) => {
      box.appendChild(h("div", { class: "entry " + cls + (i > 0 ? " entry-cont" : "") },
        h("span", { class: "entry-at", text: i === 0 ? formatOffset(entry.at_ms) : "" }),
        h("span", { class: "entry-kind", text: prefix }),
        entry.kind === "message" && line
          ? h("span", { class: "entry-text" }, "accepted as ", h("a", { href: "#/messages/" + enc(line), title: "Open the message", text: line }))
          : h("span", { class: "entry-text", text: line })));
    });
  }
  return box;
}

function renderSessions() {
  const box = $("sessions");
  clear(box);
  const list = state.sessions;
  $("sessions-empty").hidden = !(state.sessionsLoaded && list.length === 0 && !state.sessionsError);
  $("sessions-status").textContent = state.sessionsError ? "Could not load sessions: " + state.sessionsError : state.sessionsLoaded ? plural(list.length, "session") : "";
  if (list.length === 0) return;

  box.appendChild(h("div", { class: "session-row session-header", "aria-hidden": "true" },
    h("span", { text: "" }), h("span", { text: "Peer" }), h("span", { text: "Started" }), h("span", { class: "num", text: "Duration" }),
    h("span", { class: "num", text: "Commands" }), h("span", { class: "num", text: "Messages" }), h("span", { text: "End" })));

  for (const s of list) {
    const key = String(s.id);
    const open = state.expanded.has(key);
    const item = h("div", { class: "session" + (open ? " open" : ""), role: "listitem", "data-id": s.id });
    const toggle = h("button", {
      class: "session-row",
      type: "button",
      "aria-expanded": open ? "true" : "false",
      onclick: () => {
        if (state.expanded.has(key)) state.expanded.delete(key);
        else state.expanded.add(key);
        // A failed fetch is tried again when the session is reopened.
        if ((state.transcripts.get(key) || {}).error) state.transcripts.delete(key);
        renderSessions();
      },
    },
      h("span", { class: "chevron", "aria-hidden": "true", text: open ? "▾" : "▸" }),
      h("span", { class: "mono s-peer", text: s.peer || "—" }),
      h("span", { class: "s-time" }, timeEl(s.started_at)),
      h("span", { class: "num", text: s.duration_ms == null ? "open" : formatDuration(s.duration_ms) }),
      h("span", { class: "num", text: String(s.commands == null ? "" : s.commands) }),
      h("span", { class: "num", text: String(messageCount(s.messages)) }),
      h("span", {}, h("span", { class: "pill " + endClass(s.end), text: s.end || "open" })));
    item.appendChild(toggle);
    if (open) {
      loadTranscript(key);
      item.appendChild(renderTranscript(key));
    }
    box.appendChild(item);
  }
}

// An ended session's event carries its summary: it goes to the top of
// the list without a request, and the view is redrawn at most every
// 500 ms however fast sessions end.
let sessionsTimer = null;
export function onSession(summary) {
  if (!state.sessionsLoaded) return;
  if (summary && summary.id != null) {
    state.sessions = [summary].concat(state.sessions.filter((s) => s.id !== summary.id)).slice(0, SESSIONS_KEPT);
  }
  if (state.route.view !== "sessions" || sessionsTimer) return;
  sessionsTimer = setTimeout(() => {
    sessionsTimer = null;
    forgetTranscripts();
    renderSessions();
  }, 500);
}
