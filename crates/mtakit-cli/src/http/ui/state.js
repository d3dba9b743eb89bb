// What the UI shows now, and the list filters read from the page.

import { $ } from "./dom.js";

export const state = {
  relay: null,           // the --relay server, when there is one
  route: { view: "messages", id: null },
  messages: [],          // summaries shown in the list, newest first
  total: 0,              // every stored message (unfiltered)
  listTotal: 0,          // matches for the current filters
  loaded: false,
  listError: null,
  detail: null,          // the open message (full JSON)
  detailId: null,
  detailGone: false,
  tab: null,             // the chosen tab; kept while moving between messages
  rawCache: null,        // { id, text }
  showEndings: false,
  sessions: [],
  sessionsLoaded: false,
  expanded: new Set(),   // session ids whose transcript is open
  transcripts: new Map(), // session id -> { record } | { error } | { loading }
  freshIds: new Set(),   // arrived live, for a short highlight
};

function filters() {
  return {
    q: $("search").value.trim(),
    from: $("filter-from").value.trim(),
    to: $("filter-to").value.trim(),
    subject: $("filter-subject").value.trim(),
  };
}

export function filtering() {
  const f = filters();
  return Boolean(f.q || f.from || f.to || f.subject);
}

export function listQuery() {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters())) if (value) params.set(key, value);
  const s = params.toString();
  return "/api/messages" + (s ? "?" + s : "");
}
