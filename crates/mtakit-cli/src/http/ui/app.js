// The mtakit web UI: a message list with live updates, a message view and
// SMTP session transcripts. Plain JavaScript, no build step, no external
// assets.
//
// Safety rule for this file: message content (subjects, addresses, headers,
// bodies, names) only ever reaches the page through textContent or as an
// attribute value set with setAttribute. Nothing here assigns innerHTML.
// The HTML body is shown only inside an iframe with sandbox="" whose source
// is /api/messages/{id}/html (served with a sandboxing CSP of its own).
"use strict";

(function () {
  // ---------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id);

  // Builds an element. `attrs` keys: "class", "text", "on<event>", "data-*",
  // anything else goes through setAttribute. Children may be nodes, strings
  // (as text), arrays, or null/false (skipped).
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = String(value);
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) append(el, child);
      else if (child instanceof Node) el.appendChild(child);
      else el.appendChild(document.createTextNode(String(child)));
    }
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  async function api(path, options) {
    const response = await fetch(path, Object.assign({ headers: { Accept: "application/json" } }, options));
    if (!response.ok) {
      let message = response.status + " " + response.statusText;
      try {
        const body = await response.json();
        if (body && body.error) message = body.error;
      } catch (_) {
        // Not JSON: keep the status line.
      }
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    if (response.status === 204) return null;
    return response.json();
  }

  const enc = encodeURIComponent;

  function formatSize(bytes) {
    if (typeof bytes !== "number" || !isFinite(bytes)) return "";
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(bytes < 10240 ? 1 : 0) + " KB";
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function parseTime(value) {
    const t = Date.parse(value);
    return isNaN(t) ? null : t;
  }

  function relativeTime(value) {
    const t = parseTime(value);
    if (t === null) return value ? String(value) : "";
    const seconds = Math.round((Date.now() - t) / 1000);
    if (seconds < 5) return "just now";
    if (seconds < 60) return seconds + " s ago";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min ago";
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return hours + " h ago";
    const days = Math.floor(hours / 24);
    if (days < 7) return days + (days === 1 ? " day ago" : " days ago");
    return new Date(t).toLocaleDateString();
  }

  function absoluteTime(value) {
    const t = parseTime(value);
    return t === null ? String(value || "") : new Date(t).toLocaleString();
  }

  // A <time> element whose text is kept relative by the ticker below.
  function timeEl(value, cls) {
    return h("time", { class: (cls || "") + " rel-time", datetime: value || "", title: absoluteTime(value), text: relativeTime(value) });
  }

  function refreshTimes() {
    for (const el of document.querySelectorAll("time.rel-time")) {
      el.textContent = relativeTime(el.getAttribute("datetime"));
    }
  }

  function formatDuration(ms) {
    if (typeof ms !== "number" || !isFinite(ms)) return "";
    if (ms < 1) return ms.toFixed(2) + " ms";
    if (ms < 1000) return Math.round(ms) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
    const m = Math.floor(ms / 60000);
    return m + " min " + Math.round((ms % 60000) / 1000) + " s";
  }

  function formatOffset(ms) {
    if (typeof ms !== "number" || !isFinite(ms)) return "";
    return "+" + (ms / 1000).toFixed(3) + " s";
  }

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many || one + "s");
  }

  function displayAddress(address) {
    if (address === null || address === undefined) return "";
    return address === "" ? "<> (null sender)" : String(address);
  }

  function recipients(list) {
    if (!Array.isArray(list) || list.length === 0) return "";
    if (list.length <= 2) return list.join(", ");
    return list.slice(0, 2).join(", ") + " +" + (list.length - 2);
  }

  function header(headers, name) {
    if (!Array.isArray(headers)) return null;
    const lower = name.toLowerCase();
    for (const pair of headers) {
      if (Array.isArray(pair) && String(pair[0]).toLowerCase() === lower) return String(pair[1]);
    }
    return null;
  }

  let toastTimer = null;
  function toast(message, kind) {
    const el = $("toast");
    el.textContent = message;
    el.className = "toast" + (kind ? " toast-" + kind : "");
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
  }

  // Which messages were opened, so new ones stand out. Kept in localStorage
  // (bounded); the UI works the same without it.
  const seen = (function () {
    let ids = [];
    try { ids = JSON.parse(localStorage.getItem("mtakit.seen") || "[]"); } catch (_) { ids = []; }
    if (!Array.isArray(ids)) ids = [];
    const set = new Set(ids);
    return {
      has: (id) => set.has(id),
      add(id) {
        if (set.has(id)) return;
        set.add(id);
        ids.push(id);
        if (ids.length > 2000) set.delete(ids.shift());
        try { localStorage.setItem("mtakit.seen", JSON.stringify(ids)); } catch (_) { /* full or disabled */ }
      },
    };
  })();

  // ------------------------------------------------------------------ state

  const state = {
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

  function filtering() {
    const f = filters();
    return Boolean(f.q || f.from || f.to || f.subject);
  }

  function listQuery() {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(filters())) if (value) params.set(key, value);
    const s = params.toString();
    return "/api/messages" + (s ? "?" + s : "");
  }

  // ---------------------------------------------------------------- routing

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

  // ----------------------------------------------------------- message list

  let listSeq = 0;
  // Messages in a page of GET /api/messages without `limit` (PAGE_DEFAULT).
  const LIST_PAGE = 200;
  async function loadMessages() {
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
  async function refreshTotal() {
    try {
      const body = await api("/api/messages?limit=0");
      state.total = typeof body.total === "number" ? body.total : (body.messages || []).length;
      renderCount();
    } catch (_) { /* the list shows errors */ }
  }

  function renderCount() {
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

  function renderList() {
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

  function markSelected() {
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

  function onNewMessage(m) {
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

  function renderListChrome() {
    // Status line and empty state without rebuilding the list.
    $("list-empty").hidden = !(state.messages.length === 0 && state.loaded);
    let status = filtering() ? plural(state.listTotal, "match", "matches") : plural(state.listTotal, "message");
    if (state.listTotal > state.messages.length) status += ", showing the newest " + state.messages.length;
    $("list-status").textContent = state.loaded ? status : "";
    markSelected();
  }

  function onDeleted(id) {
    if (id === null || id === undefined) {
      state.messages = [];
      state.total = 0;
      state.listTotal = 0;
      renderList();
      renderCount();
      if (state.detailId) {
        state.detailGone = true;
        renderDetail();
      }
      return;
    }
    const before = state.messages.length;
    state.messages = state.messages.filter((m) => m.id !== id);
    if (state.messages.length !== before) {
      state.listTotal = Math.max(0, state.listTotal - 1);
      const li = $("message-list").querySelector('li[data-id="' + CSS.escape(id) + '"]');
      if (li) li.remove();
      renderListChrome();
      state.total = Math.max(0, state.total - 1);
      renderCount();
    } else if (filtering()) {
      // Not in the filtered list: ask the server for the new total.
      refreshTotal();
    }
    // Otherwise it was already removed here (our own delete, then its event).
    if (state.detailId === id) {
      state.detailGone = true;
      renderDetail();
    }
  }

  let reloadTimer = null;
  function scheduleReload() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(loadMessages, 150);
  }

  let searchTimer = null;
  function onSearchInput() {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(loadMessages, 250);
  }

  async function deleteAll() {
    if (!confirm("Delete all " + plural(state.total, "message") + "? This cannot be undone.")) return;
    try {
      await api("/api/messages", { method: "DELETE" });
      onDeleted(null);
      if (state.route.id) location.hash = "#/messages";
      toast("All messages deleted");
    } catch (error) {
      toast("Delete failed: " + error.message, "error");
    }
  }

  async function deleteOne(id) {
    const index = state.messages.findIndex((m) => m.id === id);
    const next = state.messages[index + 1] || state.messages[index - 1] || null;
    try {
      await api("/api/messages/" + enc(id), { method: "DELETE" });
      onDeleted(id);
      state.detailGone = false;
      location.hash = next ? "#/messages/" + enc(next.id) : "#/messages";
      toast("Message deleted");
    } catch (error) {
      toast("Delete failed: " + error.message, "error");
    }
  }

  async function releaseOne(id) {
    const answer = prompt("Send this message to " + state.relay + ".\nRecipients (comma-separated), or empty for the original ones:", "");
    if (answer === null) return;
    const to = answer.split(",").map((a) => a.trim()).filter((a) => a);
    try {
      const result = await api("/api/messages/" + enc(id) + "/release", {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json" },
        body: JSON.stringify({ to }),
      });
      toast("Released to " + result.to.join(", ") + ": " + result.reply);
    } catch (error) {
      toast("Release failed: " + error.message, "error");
    }
  }

  // ----------------------------------------------------------- message view

  let detailSeq = 0;
  async function openMessage(id) {
    const seq = ++detailSeq;
    state.detailId = id;
    state.detail = null;
    state.detailGone = false;
    state.detailError = null;
    renderDetail();
    try {
      const message = await api("/api/messages/" + enc(id));
      if (seq !== detailSeq) return;
      state.detail = message;
      seen.add(id);
      const li = $("message-list").querySelector('li[data-id="' + CSS.escape(id) + '"]');
      if (li) li.classList.remove("unread");
    } catch (error) {
      if (seq !== detailSeq) return;
      state.detailError = error.status === 404 ? "This message does not exist (any more)." : error.message;
    }
    renderDetail();
  }

  const TABS = [
    ["html", "HTML"],
    ["text", "Text"],
    ["headers", "Headers"],
    ["envelope", "Envelope"],
    ["raw", "Raw"],
  ];

  function defaultTab(m) {
    if (m.html !== null && m.html !== undefined) return "html";
    if (m.text !== null && m.text !== undefined) return "text";
    return "headers";
  }

  function renderDetail() {
    const pane = $("detail");
    const placeholder = $("detail-placeholder");
    clear(pane);
    if (!state.detailId) {
      pane.hidden = true;
      placeholder.hidden = false;
      return;
    }
    placeholder.hidden = true;
    pane.hidden = false;

    const back = h("a", { class: "back-link", href: "#/messages", text: "← All messages" });
    if (state.detailGone) {
      pane.appendChild(h("div", { class: "notice" }, back, h("h2", { text: "This message was deleted" }), h("p", { class: "muted", text: "It is no longer on the server." })));
      return;
    }
    if (state.detailError) {
      pane.appendChild(h("div", { class: "notice error" }, back, h("h2", { text: "Cannot open this message" }), h("p", { class: "muted", text: state.detailError })));
      return;
    }
    const m = state.detail;
    if (!m) {
      pane.appendChild(h("div", { class: "loading", text: "Loading…" }));
      return;
    }

    const env = m.envelope || {};
    const subject = m.subject === null || m.subject === undefined || m.subject === "" ? null : String(m.subject);
    const fromHeader = header(m.headers, "From");
    const toHeader = header(m.headers, "To");
    const ccHeader = header(m.headers, "Cc");
    const rawUrl = "/api/messages/" + enc(m.id) + "/raw";

    const head = h("header", { class: "detail-head" },
      back,
      h("div", { class: "detail-top" },
        h("h1", { class: "detail-subject" + (subject ? "" : " none"), text: subject || "(no subject)" }),
        h("div", { class: "detail-actions" },
          h("a", { class: "btn", href: rawUrl, download: m.id + ".eml", title: "Download the exact bytes received", text: "Download .eml" }),
          state.relay ? h("button", { class: "btn", type: "button", id: "release-one", title: "Send this message to " + state.relay, onclick: () => releaseOne(m.id), text: "Release" }) : null,
          h("button", { class: "btn btn-danger", type: "button", id: "delete-one", onclick: () => deleteOne(m.id), text: "Delete" }))),
      h("dl", { class: "detail-addresses" },
        h("dt", { text: "From" }), h("dd", { text: fromHeader || displayAddress(env.from) }),
        h("dt", { text: "To" }), h("dd", { text: toHeader || (env.to || []).join(", ") }),
        ccHeader ? [h("dt", { text: "Cc" }), h("dd", { text: ccHeader })] : null,
        h("dt", { text: "Received" }), h("dd", {}, h("span", { text: absoluteTime(m.received_at) }), " ", h("span", { class: "muted" }, "(", timeEl(m.received_at), ")"), h("span", { class: "muted", text: " · " + formatSize(m.size) }))));

    pane.appendChild(head);
    pane.appendChild(renderFindings(m.findings));
    // Too complex to take apart (deep MIME nesting and the like): the
    // server says why; the Raw tab still has every byte.
    if (typeof m.notice === "string" && m.notice) {
      pane.appendChild(h("div", { class: "findings warn", role: "note" },
        h("div", { class: "findings-title" },
          h("span", { class: "findings-icon", "aria-hidden": "true", text: "⚠" }),
          h("strong", { text: "Structure not shown" })),
        h("span", { text: m.notice })));
    }
    const attachments = renderAttachments(m);
    if (attachments) pane.appendChild(attachments);

    if (!state.tab || !TABS.some(([key]) => key === state.tab)) state.tab = defaultTab(m);
    let tab = state.tab;
    if ((tab === "html" && m.html == null) || (tab === "text" && m.text == null)) tab = defaultTab(m);

    const tabBar = h("div", { class: "tabs", role: "tablist" });
    const panel = h("div", { class: "tab-panel", role: "tabpanel", id: "tab-panel" });
    for (const [key, label] of TABS) {
      const missing = (key === "html" && m.html == null) || (key === "text" && m.text == null);
      tabBar.appendChild(h("button", {
        class: "tab" + (key === tab ? " active" : "") + (missing ? " missing" : ""),
        type: "button",
        role: "tab",
        id: "tab-" + key,
        "data-tab": key,
        "aria-selected": key === tab ? "true" : "false",
        title: missing ? "This message has no " + label + " body" : null,
        onclick: () => { state.tab = key; renderDetail(); },
        text: label,
      }));
    }
    pane.appendChild(tabBar);
    pane.appendChild(panel);
    renderTab(tab, m, panel);
  }

  function renderFindings(findings) {
    const list = Array.isArray(findings) ? findings : [];
    if (list.length === 0) {
      return h("div", { class: "findings clean", id: "findings" },
        h("span", { class: "findings-icon", "aria-hidden": "true", text: "✓" }),
        h("span", {}, h("strong", { text: "Clean." }), " No line-ending or conformance findings."));
    }
    return h("div", { class: "findings warn", id: "findings", role: "note" },
      h("div", { class: "findings-title" },
        h("span", { class: "findings-icon", "aria-hidden": "true", text: "⚠" }),
        h("strong", { text: plural(list.length, "finding") })),
      h("ul", {}, list.map((f) => h("li", { text: String(f) }))));
  }

  function renderAttachments(m) {
    const list = Array.isArray(m.attachments) ? m.attachments : [];
    if (list.length === 0) return null;
    return h("section", { class: "attachments", id: "attachments", "aria-label": "Attachments" },
      h("h2", { class: "section-title", text: plural(list.length, "attachment") }),
      h("ul", { class: "attachment-list" }, list.map((a) => {
        const url = typeof a.url === "string" && a.url.startsWith("/api/") ? a.url : "/api/messages/" + enc(m.id) + "/attachments/" + enc(a.index);
        const name = a.name ? String(a.name) : "attachment-" + a.index;
        return h("li", { class: "attachment" },
          h("span", { class: "attachment-icon", "aria-hidden": "true", text: extension(name) }),
          h("span", { class: "attachment-text" },
            h("span", { class: "attachment-name", text: name }),
            h("span", { class: "attachment-meta", text: [a.content_type, formatSize(a.size)].filter(Boolean).join(" · ") })),
          h("a", { class: "btn btn-small", href: url, download: name, text: "Download" }));
      })));
  }

  function extension(name) {
    const match = /\.([A-Za-z0-9]{1,4})$/.exec(name);
    return match ? match[1].toUpperCase() : "FILE";
  }

  function renderTab(tab, m, panel) {
    panel.className = "tab-panel tab-" + tab;
    if (tab === "html") {
      if (m.html == null) {
        panel.appendChild(h("p", { class: "muted pad", text: "This message has no HTML body." }));
        return;
      }
      panel.appendChild(h("div", { class: "html-note muted small", text: "Shown in a sandbox: scripts, forms and plugins are off." }));
      const frame = h("iframe", {
        class: "html-frame",
        id: "html-frame",
        title: "HTML body",
        sandbox: "",
        referrerpolicy: "no-referrer",
        loading: "eager",
        src: "/api/messages/" + enc(m.id) + "/html",
      });
      // setAttribute("sandbox", "") above keeps every restriction on.
      panel.appendChild(h("div", { class: "frame-wrap" }, frame));
    } else if (tab === "text") {
      if (m.text == null) {
        panel.appendChild(h("p", { class: "muted pad", text: "This message has no plain-text body." }));
        return;
      }
      panel.appendChild(h("pre", { class: "text-body", id: "text-body", text: m.text }));
    } else if (tab === "headers") {
      const rows = (Array.isArray(m.headers) ? m.headers : []).map((pair) =>
        h("tr", {}, h("th", { scope: "row", text: String(pair[0]) }), h("td", { text: String(pair[1]) })));
      panel.appendChild(h("table", { class: "kv headers-table", id: "headers-table" }, h("tbody", {}, rows)));
    } else if (tab === "envelope") {
      panel.appendChild(renderEnvelope(m.envelope || {}));
    } else if (tab === "raw") {
      renderRaw(m, panel);
    }
  }

  function renderEnvelope(env) {
    const params = env.mail_params || {};
    const paramText = Object.entries(params)
      .filter(([, v]) => v !== null && v !== undefined && v !== false)
      .map(([k, v]) => k.toUpperCase() + (v === true ? "" : "=" + v))
      .join("  ");
    const tls = env.tls;
    const auth = env.auth;
    const row = (label, value, cls) => h("tr", {}, h("th", { scope: "row", text: label }), h("td", { class: cls || null }, value));
    return h("table", { class: "kv envelope-table", id: "envelope-table" }, h("tbody", {},
      row("MAIL FROM", displayAddress(env.from), "mono"),
      row("RCPT TO", (env.to || []).length ? h("ul", { class: "plain" }, (env.to || []).map((r) => h("li", { text: r }))) : "—", "mono"),
      row("Parameters", paramText || "none", "mono"),
      row("HELO", env.helo || "—", "mono"),
      row("Peer", env.peer || "—", "mono"),
      row("TLS", tls ? [tls.version, tls.cipher, tls.sni ? "SNI " + tls.sni : null].filter(Boolean).join(" · ") : h("span", { class: "pill pill-muted", text: "none (plain text connection)" })),
      row("Auth", auth ? (auth.mechanism || "?") + " as " + (auth.username || "?") : h("span", { class: "pill pill-muted", text: "not authenticated" }))));
  }

  async function renderRaw(m, panel) {
    const bar = h("div", { class: "raw-bar" },
      h("label", { class: "check" },
        h("input", { type: "checkbox", id: "show-endings", checked: state.showEndings, onchange: (e) => { state.showEndings = e.target.checked; fillRaw(); } }),
        " Show line endings (\u21b5 is CRLF; a bare LF or CR is marked in red)"),
      h("a", { class: "btn btn-small", href: "/api/messages/" + enc(m.id) + "/raw", target: "_blank", rel: "noopener noreferrer", text: "Open raw" }));
    const pre = h("pre", { class: "raw", id: "raw", text: "Loading…" });
    panel.appendChild(bar);
    panel.appendChild(pre);

    function fillRaw() {
      const text = state.rawCache && state.rawCache.id === m.id ? state.rawCache.text : null;
      if (text === null) return;
      if (!state.showEndings) {
        pre.textContent = text;
        return;
      }
      clear(pre);
      const frag = document.createDocumentFragment();
      const limit = 2 * 1024 * 1024;
      const body = text.length > limit ? text.slice(0, limit) : text;
      // Marks CRLF quietly and bare LF / bare CR loudly.
      const re = /\r\n|\n|\r/g;
      let last = 0;
      let match;
      while ((match = re.exec(body)) !== null) {
        if (match.index > last) frag.appendChild(document.createTextNode(body.slice(last, match.index)));
        if (match[0] === "\r\n") frag.appendChild(h("span", { class: "eol", title: "CRLF", text: "\u21b5" }));
        else if (match[0] === "\n") frag.appendChild(h("span", { class: "eol bad", title: "bare LF", text: "LF" }));
        else frag.appendChild(h("span", { class: "eol bad", title: "bare CR", text: "CR" }));
        frag.appendChild(document.createTextNode("\n"));
        last = re.lastIndex;
      }
      if (last < body.length) frag.appendChild(document.createTextNode(body.slice(last)));
      if (body.length < text.length) frag.appendChild(h("span", { class: "muted", text: "\n… (cut at 2 MB; open the raw source for the rest)" }));
      pre.appendChild(frag);
    }

    if (!state.rawCache || state.rawCache.id !== m.id) {
      try {
        const response = await fetch("/api/messages/" + enc(m.id) + "/raw");
        if (!response.ok) throw new Error(response.status + " " + response.statusText);
        state.rawCache = { id: m.id, text: await response.text() };
      } catch (error) {
        pre.textContent = "Could not load the raw source: " + error.message;
        return;
      }
    }
    fillRaw();
  }

  // --------------------------------------------------------------- sessions

  // The list holds summaries only; a transcript is fetched when it is
  // opened (GET /api/sessions/{id}) and kept while its session is listed.
  const SESSIONS_KEPT = 200;
  let sessionsSeq = 0;
  async function loadSessions() {
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
  function onSession(summary) {
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
})();
