// One message: its view with tabs (HTML, text, headers, envelope, raw),
// and deleting or releasing messages.

import { $, absoluteTime, api, clear, displayAddress, enc, formatSize, h, header, plural, seen, timeEl, toast } from "./dom.js";
import { filtering, state } from "./state.js";
import { refreshTotal, renderCount, renderList, renderListChrome } from "./list.js";

export function onDeleted(id) {
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


export async function deleteAll() {
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
export async function openMessage(id) {
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

export function renderDetail() {
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
