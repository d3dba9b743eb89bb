// The web UI's helpers: building elements, calling the API, formatting
// sizes and times, the toast, and the set of messages already opened.
//
// Safety rule for every module of the UI: message content (subjects,
// addresses, headers, bodies, names) only ever reaches the page through
// textContent or as an attribute value set with setAttribute. Nothing here
// assigns innerHTML. The HTML body is shown only inside an iframe with
// sandbox="" whose source is /api/messages/{id}/html (served with a
// sandboxing CSP of its own).

export const $ = (id) => document.getElementById(id);

// Builds an element. `attrs` keys: "class", "text", "on<event>", "data-*",
// anything else goes through setAttribute. Children may be nodes, strings
// (as text), arrays, or null/false (skipped).
export function h(tag, attrs, ...children) {
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

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export async function api(path, options) {
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

export const enc = encodeURIComponent;

export function formatSize(bytes) {
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

export function absoluteTime(value) {
  const t = parseTime(value);
  return t === null ? String(value || "") : new Date(t).toLocaleString();
}

// A <time> element whose text is kept relative by the ticker below.
export function timeEl(value, cls) {
  return h("time", { class: (cls || "") + " rel-time", datetime: value || "", title: absoluteTime(value), text: relativeTime(value) });
}

export function refreshTimes() {
  for (const el of document.querySelectorAll("time.rel-time")) {
    el.textContent = relativeTime(el.getAttribute("datetime"));
  }
}

export function formatDuration(ms) {
  if (typeof ms !== "number" || !isFinite(ms)) return "";
  if (ms < 1) return ms.toFixed(2) + " ms";
  if (ms < 1000) return Math.round(ms) + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
  const m = Math.floor(ms / 60000);
  return m + " min " + Math.round((ms % 60000) / 1000) + " s";
}

export function formatOffset(ms) {
  if (typeof ms !== "number" || !isFinite(ms)) return "";
  return "+" + (ms / 1000).toFixed(3) + " s";
}

export function plural(n, one, many) {
  return n + " " + (n === 1 ? one : many || one + "s");
}

export function displayAddress(address) {
  if (address === null || address === undefined) return "";
  return address === "" ? "<> (null sender)" : String(address);
}

export function recipients(list) {
  if (!Array.isArray(list) || list.length === 0) return "";
  if (list.length <= 2) return list.join(", ");
  return list.slice(0, 2).join(", ") + " +" + (list.length - 2);
}

export function header(headers, name) {
  if (!Array.isArray(headers)) return null;
  const lower = name.toLowerCase();
  for (const pair of headers) {
    if (Array.isArray(pair) && String(pair[0]).toLowerCase() === lower) return String(pair[1]);
  }
  return null;
}

let toastTimer = null;
export function toast(message, kind) {
  const el = $("toast");
  el.textContent = message;
  el.className = "toast" + (kind ? " toast-" + kind : "");
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
}

// Which messages were opened, so new ones stand out. Kept in localStorage
// (bounded); the UI works the same without it.
export const seen = (function () {
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
