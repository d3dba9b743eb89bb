// Drives Debian's chromium through the mtakit web UI. Run by
// tests/browser.rs, which starts `mtakit serve` and passes:
//
//   MTAKIT_URL          http://IP:PORT of the web UI
//   MTAKIT_SMTP         IP:PORT of the SMTP listener
//   MTAKIT_SCREENSHOTS  a directory for the PNG screenshots
//   CHROMIUM            the browser binary (default /usr/bin/chromium)
//
// Every wait is bounded. Exits non-zero on the first failed check.

import net from "node:net";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const URL_BASE = need("MTAKIT_URL").replace(/\/$/, "");
const [SMTP_HOST, SMTP_PORT] = splitHostPort(need("MTAKIT_SMTP"));
const SHOTS = need("MTAKIT_SCREENSHOTS");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const STEP = 15_000; // ms, for any one wait in the page

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function splitHostPort(s) {
  const i = s.lastIndexOf(":");
  return [s.slice(0, i).replace(/^\[|\]$/g, ""), Number(s.slice(i + 1))];
}

function check(condition, message) {
  if (!condition) throw new Error("check failed: " + message);
  console.log("ok - " + message);
}

// ------------------------------------------------------------ SMTP client

// Sends one message over a raw socket; resolves with the final reply.
function sendMail({ from, to, data }) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(SMTP_PORT, SMTP_HOST);
    socket.setTimeout(STEP, () => socket.destroy(new Error("SMTP timed out")));
    let buffer = "";
    const waiters = [];
    socket.on("data", (chunk) => {
      buffer += chunk.toString("latin1");
      for (;;) {
        // A whole reply: lines up to one whose 4th char is a space.
        const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(buffer);
        if (!m) break;
        buffer = buffer.slice(m[0].length);
        const waiter = waiters.shift();
        if (waiter) waiter(m[0]);
      }
    });
    socket.on("error", reject);
    const reply = () => new Promise((r) => waiters.push(r));
    const expect = async (code) => {
      const text = await reply();
      if (!text.startsWith(String(code))) throw new Error(`expected ${code}, got ${JSON.stringify(text)}`);
      return text;
    };
    const send = (line) => socket.write(line + "\r\n", "latin1");
    (async () => {
      await expect(220);
      send("EHLO browser-test.example");
      await expect(250);
      send(`MAIL FROM:<${from}>`);
      await expect(250);
      for (const rcpt of to) {
        send(`RCPT TO:<${rcpt}>`);
        await expect(250);
      }
      send("DATA");
      await expect(354);
      const stuffed = data.replace(/^\./gm, "..");
      socket.write(stuffed + (stuffed.endsWith("\r\n") ? "" : "\r\n") + ".\r\n", "latin1");
      const done = await expect(250);
      send("QUIT");
      await expect(221);
      socket.end();
      return done;
    })().then(resolve, (e) => { socket.destroy(); reject(e); });
  });
}

const crlf = (s) => s.replace(/\r?\n/g, "\r\n");

const HTML_BODY = `<!doctype html>
<html><head><title>pwned-frame</title></head>
<body>
<h1 id="hello">Hello from the HTML part</h1>
<p>Your order <b>#4711</b> has shipped. Thanks for shopping with Example &amp; Co.</p>
<table border="1" cellpadding="6"><tr><th>Item</th><th>Qty</th></tr><tr><td>Blue widget</td><td>2</td></tr></table>
<script>
  document.title = "pwned";
  try { parent.document.title = "pwned"; } catch (e) {}
  try { top.location.hash = "#/pwned"; } catch (e) {}
  document.body.appendChild(document.createElement("p")).id = "script-ran";
</script>
</body></html>`;

const RICH = crlf(`From: "Shop Notifications" <orders@shop.example>
To: "Bob Example" <bob@example.com>
Subject: Your order #4711 has shipped <b>not bold</b>
Date: Mon, 01 Jan 2024 10:00:00 +0000
Message-ID: <order-4711@shop.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer-boundary"

This is a multi-part message in MIME format.

--outer-boundary
Content-Type: multipart/alternative; boundary="alt-boundary"

--alt-boundary
Content-Type: text/plain; charset=utf-8

Hello from the text part.
Your order #4711 has shipped.

--alt-boundary
Content-Type: text/html; charset=utf-8

${HTML_BODY}
--alt-boundary--

--outer-boundary
Content-Type: text/csv; name="invoice-4711.csv"
Content-Disposition: attachment; filename="invoice-4711.csv"
Content-Transfer-Encoding: base64

${Buffer.from("item,qty,price\nBlue widget,2,9.99\n").toString("base64")}
--outer-boundary--
`);

// With one bare LF (the server runs with --line-endings record), so the
// message carries a finding.
const PLAIN = crlf(`From: alice@example.com
To: carol@example.org
Subject: Weekly report
Date: Mon, 01 Jan 2024 09:00:00 +0000

Hi Carol,

the numbers for this week are in.
`) + "This line ends in a bare LF.\nAlice\r\n";

// ------------------------------------------------------------------- run

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "mtakit-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1366, height: 820 },
    colorScheme: "light",
    timeout: 30_000,
  });
  context.setDefaultTimeout(STEP);
  const pageErrors = [];
  try {
    // Record the UI's own CSP violations (an inline style or script in
    // the UI would show up here).
    await context.addInitScript(() => {
      window.__csp = [];
      document.addEventListener("securitypolicyviolation", (e) => {
        window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
      });
    });
    const page = context.pages()[0] || (await context.newPage());
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") console.log("console error: " + m.text());
    });

    // The page, empty, with the live stream connected.
    await page.goto(URL_BASE + "/", { waitUntil: "load" });
    await page.waitForURL(/#\/messages$/);
    await page.locator("#list-empty").waitFor({ state: "visible" });
    await page.locator('#live[data-state="open"]').waitFor();
    check(true, "the UI loads empty and connects to /api/events");
    const title = await page.title();
    await shot(page, "0-empty-list");
    // A marker that a reload or navigation would wipe.
    await page.evaluate(() => { window.__noReload = 42; });

    // Mail arrives: it shows up without a reload.
    await sendMail({ from: "alice@example.com", to: ["carol@example.org"], data: PLAIN });
    await page.locator(".message-item", { hasText: "Weekly report" }).waitFor();
    await sendMail({ from: "orders@shop.example", to: ["bob@example.com", "ops@example.com"], data: RICH });
    const item = page.locator(".message-item", { hasText: "Your order #4711 has shipped" });
    await item.waitFor();
    check(await page.evaluate(() => window.__noReload === 42), "new messages appear live, without a reload");
    check((await page.locator(".message-item").first().textContent()).includes("#4711"), "the newest message is at the top");
    check((await page.locator("#message-count").textContent()).trim() === "2", "the header counts 2 messages");
    // The subject's markup is text, not HTML.
    check((await item.locator(".mi-subject").textContent()).includes("<b>not bold</b>"), "a subject with markup shows as text");
    const weekly = page.locator(".message-item", { hasText: "Weekly report" });
    check((await weekly.locator(".badge-warn").textContent()).includes("1"), "a message with a finding has a badge");
    check((await item.locator(".badge-warn").count()) === 0, "a clean message has no badge");
    await page.waitForTimeout(2600); // let the arrival highlight fade for the picture
    await shot(page, "1-message-list");

    // Open it.
    await item.click();
    await page.waitForURL(/#\/messages\/[^/]+$/);
    const id = decodeURIComponent(page.url().split("#/messages/")[1]);
    await page.locator(".detail-subject").waitFor();
    check((await page.locator(".detail-subject").textContent()).includes("<b>not bold</b>"), "the message view shows the subject as text");

    // The HTML body, inside a sandbox without scripts.
    const frameEl = page.locator("iframe#html-frame");
    await frameEl.waitFor();
    check((await frameEl.getAttribute("sandbox")) === "", 'the HTML iframe has sandbox=""');
    check((await frameEl.getAttribute("src")) === `/api/messages/${encodeURIComponent(id)}/html`, "the iframe loads /api/messages/{id}/html");
    const frame = page.frameLocator("iframe#html-frame");
    await frame.locator("#hello").waitFor();
    check((await frame.locator("#hello").textContent()) === "Hello from the HTML part", "the HTML body renders in the iframe");
    const contentFrame = await (await frameEl.elementHandle()).contentFrame();
    await contentFrame.waitForLoadState("load");
    check((await frame.locator("#script-ran").count()) === 0, "the mail's <script> did not run");
    const frameTitle = await contentFrame.title();
    check(frameTitle === "pwned-frame", "the mail's script did not change its own document.title");
    check((await page.title()) === title && !(await page.title()).includes("pwned"), "the page title is unchanged");
    check(!page.url().includes("pwned"), "the mail could not navigate the UI");

    // Attachments and findings.
    const attachment = page.locator("#attachments .attachment", { hasText: "invoice-4711.csv" });
    await attachment.waitFor();
    check((await attachment.textContent()).includes("text/csv"), "the attachment is listed with its type");
    const href = await attachment.locator("a").getAttribute("href");
    const download = await page.request.get(URL_BASE + href);
    check(download.ok() && (await download.text()).includes("Blue widget,2,9.99"), "the attachment's download link works");
    check((await page.locator("#findings.clean").textContent()).includes("Clean"), "a clean message says so");
    await shot(page, "2-message-html");

    // The other tabs.
    await page.locator("#tab-text").click();
    check((await page.locator("#text-body").textContent()).includes("Hello from the text part."), "the text tab shows the text body");
    await page.locator("#tab-headers").click();
    check((await page.locator("#headers-table").textContent()).includes("order-4711@shop.example"), "the headers tab lists the headers");
    await page.locator("#tab-envelope").click();
    const envelope = await page.locator("#envelope-table").textContent();
    check(envelope.includes("orders@shop.example") && envelope.includes("ops@example.com") && envelope.includes("browser-test.example"),
      "the envelope tab shows MAIL FROM, RCPT TO and HELO");
    await shot(page, "3-message-envelope");
    await page.locator("#tab-raw").click();
    await page.locator("#raw", { hasText: "Content-Transfer-Encoding" }).waitFor();
    const raw = await page.locator("#raw").textContent();
    check(raw.includes('<script>') && raw.includes("Subject: Your order #4711"), "the raw tab shows the source as text");
    check((await page.locator("#raw script").count()) === 0, "the raw source is not parsed as HTML");
    await page.locator("#show-endings").check();
    await page.locator("#raw .eol").first().waitFor();
    check(true, "line endings can be shown");
    await shot(page, "4-message-raw");

    // The plain message: with the HTML tab chosen, it falls back to text.
    await page.locator("#tab-html").click();
    await page.locator(".message-item", { hasText: "Weekly report" }).click();
    await page.locator(".detail-subject", { hasText: "Weekly report" }).waitFor();
    await page.locator("#tab-text.active").waitFor();
    await page.locator("#text-body", { hasText: "the numbers for this week" }).waitFor();
    check(true, "a text-only message opens on its text");
    check(/bare LF/i.test(await page.locator("#findings.warn li").first().textContent()), "the findings list names the bare LF");
    await page.locator("#tab-raw").click();
    await page.locator("#raw .eol.bad").first().waitFor();
    check((await page.locator("#raw .eol.bad").count()) === 1, "the raw view marks the one bare LF");
    await shot(page, "4b-message-findings");

    // Search narrows the list (debounced) and clearing restores it.
    await page.locator("#search").fill("widget");
    await page.waitForFunction(() => document.querySelectorAll(".message-item").length === 1);
    check((await page.locator(".message-item").textContent()).includes("#4711"), "search by full text finds the order");
    await page.locator("#search").fill("");
    await page.waitForFunction(() => document.querySelectorAll(".message-item").length === 2);
    check(true, "clearing the search shows every message");

    // Sessions, with their transcripts.
    await page.locator("#nav-sessions").click();
    await page.waitForURL(/#\/sessions$/);
    await page.locator(".session").nth(1).waitFor();
    // The list holds summaries; the transcript is fetched when opened.
    const fetched = page.waitForResponse((r) => /\/api\/sessions\/\d+$/.test(new URL(r.url()).pathname), { timeout: 15000 });
    await page.locator(".session button.session-row").first().click();
    check((await fetched).status() === 200, "opening a session fetches its transcript on demand");
    const transcript = page.locator(".session.open .transcript");
    await transcript.locator(".entry").first().waitFor();
    const lines = await transcript.textContent();
    check(/C:\s*EHLO browser-test\.example/.test(lines) && /S:\s*250/.test(lines) && /C:\s*QUIT/.test(lines), "a session's transcript shows C: and S: lines");
    check(/\+\d+\.\d{3} s/.test(lines), "transcript lines carry their time offset");
    await shot(page, "5-sessions");

    // Dark mode, for the pictures.
    await page.emulateMedia({ colorScheme: "dark" });
    await shot(page, "6-sessions-dark");
    await page.goto(URL_BASE + "/#/messages/" + encodeURIComponent(id));
    await page.locator("#tab-html").click();
    await page.frameLocator("iframe#html-frame").locator("#hello").waitFor();
    await shot(page, "7-message-dark");
    await page.emulateMedia({ colorScheme: "light" });
    await page.evaluate(() => { window.__noReload = 43; });

    // Deleting: elsewhere (live), then one with the button, then all.
    const plainId = await page.locator(".message-item", { hasText: "Weekly report" }).getAttribute("data-id");
    const del = await page.request.delete(`${URL_BASE}/api/messages/${encodeURIComponent(plainId)}`);
    check(del.status() === 204, "DELETE /api/messages/{id} answers 204");
    await page.locator(".message-item", { hasText: "Weekly report" }).waitFor({ state: "detached" });
    check(await page.evaluate(() => window.__noReload === 43), "a message deleted elsewhere disappears live");
    await sendMail({ from: "alice@example.com", to: ["carol@example.org"], data: PLAIN });
    await page.locator(".message-item", { hasText: "Weekly report" }).waitFor();
    await page.locator(".message-item", { hasText: "#4711" }).click();
    await page.locator("#delete-one").click();
    await page.locator(".message-item", { hasText: "#4711" }).waitFor({ state: "detached" });
    check(true, "the delete button removes the open message");
    page.once("dialog", (dialog) => dialog.accept());
    await page.locator("#delete-all").click();
    await page.locator("#list-empty").waitFor({ state: "visible" });
    check((await page.locator(".message-item").count()) === 0, "delete all (confirmed) empties the list");
    check((await page.locator("#message-count").textContent()).trim() === "0", "the header counts 0 messages");

    const csp = await page.evaluate(() => window.__csp);
    check(csp.length === 0, "the UI breaks none of its CSP" + (csp.length ? ": " + csp.join("; ") : ""));
    check(pageErrors.length === 0, "no uncaught errors in the page" + (pageErrors.length ? ": " + pageErrors.join("; ") : ""));
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function shot(page, name) {
  const file = path.join(SHOTS, name + ".png");
  await page.screenshot({ path: file });
  console.log("screenshot: " + file);
}

const started = Date.now();
main().then(
  () => {
    console.log(`browser test passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.exit(0);
  },
  (error) => {
    console.error(error && error.stack ? error.stack : String(error));
    process.exit(1);
  },
);
