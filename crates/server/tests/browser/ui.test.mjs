// Browser tests of the web interface: Playwright (playwright-core) drives Debian's Chromium,
// headless, against a marketplace started on loopback by the `ui_fixture` example (signed entries
// of several endorsers, expired and deprecated images, XSS attempts in every field, e-mail
// confirmation with an SMTP sink). Screenshots of the main pages go to docs/screenshots/ (or to
// $SCREENSHOTS_DIR).
//
//   npm ci && npm test                         (in crates/server/tests/browser)
//
// Environment: CHROMIUM (default /usr/bin/chromium), UI_FIXTURE (a built ui_fixture binary;
// default: `cargo run --example ui_fixture`), SCREENSHOTS_DIR.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../../../..");
const shots = process.env.SCREENSHOTS_DIR
  ? path.resolve(process.env.SCREENSHOTS_DIR)
  : path.join(repo, "docs/screenshots");
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

let fixture; // the child process
let info; // its first line: url, files, ids, endorsers
const mails = []; // confirmation mails seen so far
const mailWaiters = [];
let browser;
let problems = []; // dialogs, page errors, CSP violations of the current test

function startFixture() {
  const command = process.env.UI_FIXTURE
    ? [process.env.UI_FIXTURE, []]
    : ["cargo", ["run", "--quiet", "--locked", "-p", "marketplace-server", "--example", "ui_fixture"]];
  fixture = spawn(command[0], command[1], { cwd: repo, stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: fixture.stdout });
  return new Promise((resolve, reject) => {
    fixture.on("exit", (code) => reject(new Error(`ui_fixture exited (${code}) before it was ready`)));
    lines.on("line", (line) => {
      let value;
      try {
        value = JSON.parse(line);
      } catch {
        return;
      }
      if (value.url) {
        resolve(value);
      } else if (value.mail) {
        mails.push(value.mail);
        mailWaiters.splice(0).forEach((wake) => wake());
      }
    });
  });
}

/** The first mail to `to` after `seen` mails, waiting for it. */
async function mailTo(to, seen) {
  const deadline = Date.now() + 20000;
  for (;;) {
    const mail = mails.slice(seen).find((m) => m.to === to);
    if (mail) return mail;
    if (Date.now() > deadline) throw new Error(`no mail to ${to}`);
    await new Promise((wake) => {
      mailWaiters.push(wake);
      setTimeout(wake, 500);
    });
  }
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  info = await startFixture();
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, { timeout: 600000 });

after(async () => {
  if (browser) await browser.close();
  if (fixture) {
    fixture.stdin.end();
    fixture.kill("SIGTERM");
  }
});

const url = (p) => `${info.url}/${p.replace(/^\//, "")}`;

/** A page that records dialogs, script errors and CSP violations. */
async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  // Content-Security-Policy violations (an inline script or style would be one).
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    const text = m.text();
    if (m.type() === "error" && !/Failed to load resource/.test(text)) {
      problems.push(`console: ${text}`);
    }
  });
  return page;
}

async function shot(page, name, fullPage = false) {
  await page.screenshot({ path: path.join(shots, name), fullPage, animations: "disabled" });
}

/** Nothing ran: no dialog, no error, `window.__xss` undefined, no markup from documents. */
async function assertInert(page, where) {
  assert.deepEqual(problems, [], `${where}: ${problems.join("; ")}`);
  assert.equal(await page.evaluate(() => typeof window.__xss), "undefined", `${where}: window.__xss`);
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), [], `${where}: CSP violations`);
  const found = await page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll("*")) {
      for (const attr of el.getAttributeNames()) {
        if (/^on/i.test(attr)) bad.push(`${el.tagName} ${attr}`);
      }
      if (el.tagName === "SCRIPT" && !el.src) bad.push("inline script");
      if (el.tagName === "STYLE") bad.push("style element");
      if (["IFRAME", "SVG", "svg", "OBJECT", "EMBED"].includes(el.tagName)) bad.push(el.tagName);
      if (el.tagName === "IMG" && !/static\/favicon/.test(el.getAttribute("src") || "")) bad.push("img");
      const href = el.getAttribute("href");
      if (href && /^\s*(javascript|data|vbscript):/i.test(href)) bad.push(`href ${href}`);
    }
    return bad;
  });
  assert.deepEqual(found, [], `${where}: injected markup`);
}

/** Fires the events a payload's handler would wait for on every element, then tabs through. */
async function poke(page) {
  await page.evaluate(() => {
    for (const el of document.querySelectorAll("body *")) {
      for (const type of ["mouseover", "mouseenter", "focus", "click", "load", "error", "animationstart"]) {
        if (type === "click" && (el.closest("a, button, form") || el.tagName === "SUMMARY")) continue;
        el.dispatchEvent(new Event(type, { bubbles: false }));
      }
    }
  });
  for (const el of (await page.$$("main .tag, main h1, main .card-title a")).slice(0, 20)) {
    await el.hover({ timeout: 500 }).catch(() => {});
  }
  for (let i = 0; i < 30; i += 1) await page.keyboard.press("Tab");
}

test("search: free text, filters that combine, counts, sorting, paging, bookmarkable URLs", { timeout: 120000 }, async () => {
  problems = [];
  const page = await newPage();
  await page.goto(url("metadata"));
  await assert.doesNotReject(page.waitForSelector("h1"));
  assert.match(await page.locator("#result-count").innerText(), /24 entries match; showing 1–20/);
  assert.equal(await page.locator("ol.cards > li").count(), 20);
  // Paging.
  await page.getByRole("link", { name: "Next ›" }).click();
  await page.waitForURL(/page=2/);
  assert.match(await page.locator("#result-count").innerText(), /showing 21–24/);
  // Free text, then a filter: the URL keeps only what is set.
  await page.goto(url("metadata"));
  await page.getByLabel("Search text").fill("ubuntu");
  await page.keyboard.press("Enter");
  await page.waitForURL((u) => u.search === "?q=ubuntu");
  assert.match(await page.locator("#result-count").innerText(), /^2 entries match/);
  // A select submits itself: every status shows the expired 22.04 too.
  await page.getByLabel("Status").selectOption("all");
  await page.waitForURL((u) => u.search === "?q=ubuntu&status=all");
  assert.match(await page.locator("#result-count").innerText(), /^3 entries match/);
  await assert.doesNotReject(page.locator(".card", { hasText: "Ubuntu 22.04" }).getByText("Expired").waitFor());
  // Filters combine: OS version and endorser.
  await page.getByLabel("OS version").fill("24.04");
  await page.getByLabel("Endorser e-mail").fill(info.endorsers.bob);
  await page.getByLabel("Endorser e-mail").press("Enter");
  await page.waitForURL(/os_version=24\.04/);
  assert.match(await page.locator("#result-count").innerText(), /^1 entry matches/);
  assert.match(await page.locator(".card").innerText(), /bob@grid\.example\.org/);
  // The bookmark reproduces the search; a chip removes one filter.
  const bookmark = page.url();
  const other = await newPage();
  await other.goto(bookmark);
  assert.match(await other.locator("#result-count").innerText(), /^1 entry matches/);
  assert.equal(await other.getByLabel("OS version").inputValue(), "24.04");
  await other.getByRole("link", { name: /Remove the filter Endorser/ }).click();
  await other.waitForURL((u) => !u.search.includes("endorser"));
  assert.match(await other.locator("#result-count").innerText(), /^2 entries match/);
  // Sorting by title, ascending.
  await page.goto(url("metadata?os=Debian&sort=title&order=asc"));
  const titles = await page.locator(".card-title").allInnerTexts();
  assert.deepEqual(titles, ["Debian 12 bookworm", "Debian 12 bookworm for ARM"]);
  await page.goto(url("metadata?os=Debian&sort=title&order=desc"));
  assert.deepEqual(await page.locator(".card-title").allInnerTexts(), ["Debian 12 bookworm for ARM", "Debian 12 bookworm"]);
  // VO and type filters.
  await page.goto(url("metadata?vo=fedcloud.egi.eu"));
  assert.match(await page.locator("#result-count").innerText(), /^4 entries match/);
  await page.goto(url("metadata?type=appliance&os=Rocky"));
  assert.deepEqual(await page.locator(".card-title").allInnerTexts(), ["Rocky Linux 9 with CUDA 12"]);
  // The original's list parameters still work in old bookmarks.
  await page.goto(url(`metadata/${info.endorsers.jane}?status=deprecated`));
  assert.match(await page.locator(".card-title").first().innerText(), /CentOS 7/);
  // Keyboard: the first Tab reaches the skip link, which leads to the content.
  await page.goto(url("metadata"));
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.className), "skip-link");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/metadata#main$/);
  // "/" focuses the search box.
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement.id), "q");
  // A select changed with the arrow keys waits for Enter.
  await page.goto(url("metadata"));
  await page.getByLabel("Status").focus();
  await page.keyboard.press("ArrowDown");
  await page.waitForTimeout(300);
  assert.equal(new URL(page.url()).search, "");
  await page.keyboard.press("Enter");
  await page.waitForURL((u) => u.search === "?status=expired");
  await page.goto(url("metadata?status=all&os_arch=x86_64&sort=title&order=asc&per_page=10"));
  await shot(page, "search.png");
  const phone = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await phone.goto(url("metadata?q=linux&status=all"));
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the search page fits a phone (overflow ${overflow}px)`);
  await shot(phone, "search-phone.png");
  await assertInert(page, "search");
  await page.context().close();
  await other.context().close();
  await phone.context().close();
});

test("search works without JavaScript", { timeout: 60000 }, async () => {
  problems = [];
  const page = await newPage({ javaScriptEnabled: false });
  await page.goto(url("metadata"));
  await page.getByLabel("Operating system").fill("Debian");
  await page.getByLabel("Status").selectOption("all");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.waitForURL(/os=Debian/);
  assert.match(await page.locator("#result-count").innerText(), /^2 entries match/);
  // No JS: the empty fields are in the URL, and that is fine.
  assert.match(page.url(), /status=all/);
  await page.getByRole("link", { name: "Details of Debian 12 bookworm for ARM" }).click();
  await page.waitForURL(/\/images\//);
  assert.equal(await page.locator("h1").innerText(), "Debian 12 bookworm for ARM");
  await page.context().close();
});

test("image page: details, endorsements side by side, timeline, signed XML, commands", { timeout: 90000 }, async () => {
  problems = [];
  const page = await newPage();
  await page.goto(url("metadata?q=ubuntu"));
  await page.getByRole("link", { name: "Ubuntu 24.04 LTS server", exact: true }).first().click();
  await page.waitForURL(new RegExp(`/images/${info.ids.ubuntu24}$`));
  assert.equal(await page.locator("h1").innerText(), "Ubuntu 24.04 LTS server");
  const cards = page.locator("#endorsements .endorsement");
  assert.equal(await cards.count(), 2);
  const bob = cards.filter({ hasText: info.endorsers.bob });
  assert.match(await bob.innerText(), /fedcloud\.egi\.eu/);
  assert.match(await bob.innerText(), /CN=Bob Builder/);
  assert.match(await bob.innerText(), /Valid until\s+2025-12-31 23:59 UTC/);
  assert.equal(await page.locator(".checksums tbody tr").count(), 4);
  const commands = await page.locator(".command code").allInnerTexts();
  assert.ok(commands.some((c) => c.startsWith(`marketplace download -m ${info.url} ${info.ids.ubuntu24}`)), commands.join("\n"));
  assert.ok(commands.some((c) => c.startsWith("marketplace validate")));
  assert.ok(commands.some((c) => /\| sha512sum -c$/.test(c)));
  // Copy buttons (JS) next to values and commands.
  assert.ok((await page.locator(".copy-button").count()) >= 5);
  await shot(page, "image.png");
  // The timeline: three entries, the oldest superseded.
  const items = page.locator(".timeline-item");
  assert.equal(await items.count(), 3);
  const oldest = items.last();
  assert.match(await oldest.innerText(), /superseded/i);
  // Its signed XML is the stored document.
  const xmlHref = await oldest.getByRole("link", { name: /Signed XML/ }).getAttribute("href");
  const xml = await page.request.get(new URL(xmlHref, `${info.url}/`).toString());
  assert.equal(xml.status(), 200);
  assert.match(xml.headers()["content-type"], /application\/rdf\+xml/);
  assert.match(await xml.text(), /<ds:Signature|<Signature/);
  // Following the timeline to that entry: a banner points to the newer one.
  await oldest.getByRole("link", { name: /^Entry/ }).click();
  await page.waitForURL(/\/metadata\/.+\/alice@example\.org\/2024-10-01T09:00:00Z$/);
  const newer = page.locator(".banner", { hasText: "A newer entry replaces this one" });
  await newer.getByRole("link").click();
  await page.waitForURL(/2025-04-20T10:30:00Z$/);
  await page.getByRole("link", { name: /See the image/ }).click();
  await page.waitForURL(/\/images\//);
  // A deprecated image says so, and by whom.
  await page.goto(url(`images/${info.ids.centos_deprecated}`));
  const banner = page.locator(".banner-bad");
  assert.match(await banner.innerText(), /This image is deprecated/);
  assert.match(await banner.innerText(), /jane\.tester@example\.org deprecated it on 2024-07-01 08:00 UTC/);
  await shot(page, "image-deprecated.png");
  // An expired one too.
  await page.goto(url(`images/${info.ids.ubuntu22_expired}`));
  assert.match(await page.locator(".banner-warn").innerText(), /expired[\s\S]*2025-05-01 00:00 UTC/);
  assert.match(await page.locator(".command code").first().innerText(), /--any-status/);
  // Locations: only web addresses are links.
  await page.goto(url(`images/${info.ids.ttylinux}`));
  assert.equal(await page.locator(".locations a").count(), 1);
  assert.match(await page.locator(".locations .not-link").innerText(), /^pdisk:/);
  await assertInert(page, "image");
  await page.context().close();
});

test("endorsers, an endorser's history and tags", { timeout: 60000 }, async () => {
  problems = [];
  const page = await newPage();
  await page.goto(url("endorsers"));
  const rows = page.locator("#endorsers-table tbody tr");
  const total = await rows.count();
  assert.ok(total >= 4);
  await page.getByLabel("Filter").fill("bob");
  assert.equal(await page.locator("#endorsers-table tbody tr:visible").count(), 1);
  await page.getByLabel("Filter").fill("");
  await page.getByLabel("Filter").blur();
  await shot(page, "endorsers.png");
  await page.getByRole("link", { name: "Alice Example" }).click();
  await page.waitForURL(/\/endorsers\/alice@example\.org$/);
  assert.equal(await page.locator("h1").innerText(), "alice@example.org");
  await page.getByLabel("Entries endorsed in the").selectOption("3650");
  await page.waitForURL(/range=3650/);
  assert.ok((await page.locator("#history-heading ~ .table-scroll tbody tr").count()) >= 5);
  await shot(page, "endorser.png");
  await page.locator(".tag-list").getByRole("link", { name: "ubuntu-lts" }).click();
  await page.waitForURL(/\/tag\/alice@example\.org\/ubuntu-lts$/);
  assert.match(await page.locator("h1").innerText(), /Ubuntu 24\.04 LTS server/);
  await assertInert(page, "endorsers");
  await page.context().close();
});

test("upload: a bad document lists every problem next to its line, a good one is published", { timeout: 90000 }, async () => {
  problems = [];
  const page = await newPage();
  await page.goto(url("upload"));
  await shot(page, "upload.png");
  await page.getByLabel("Signed metadata file").setInputFiles(info.files.bad);
  await page.getByRole("button", { name: "Upload" }).click();
  await page.waitForSelector("#outcome");
  const outcome = page.locator("#outcome");
  assert.match(await outcome.innerText(), /not valid signed metadata/);
  const listed = page.locator(".problems li");
  assert.ok((await listed.count()) >= 3, await outcome.innerText());
  assert.match(await outcome.innerText(), /dcterms:valid/);
  assert.match(await outcome.innerText(), /slterms:inbound-port/);
  // Each problem sits under its line of the document.
  const notes = page.locator(".source tr.problem-note");
  assert.equal(await notes.count(), await listed.count());
  await shot(page, "upload-refused.png");
  const firstLine = await listed.first().locator(".line-ref").innerText();
  await listed.first().locator(".line-ref").click();
  assert.match(page.url(), new RegExp(`#L${firstLine.replace("line ", "")}$`));
  assert.ok(await page.locator(`tr#L${firstLine.replace("line ", "")}.has-problem`).isVisible());
  await assertInert(page, "refused upload");
  // The good one.
  await page.getByLabel("Signed metadata file").setInputFiles(info.files.good);
  await page.getByRole("button", { name: "Upload" }).click();
  await page.waitForSelector("#outcome");
  assert.match(await page.locator("#outcome").innerText(), /Published[\s\S]*metadata entry created/);
  await page.getByRole("link", { name: "See the image" }).click();
  await page.waitForURL(new RegExp(`/images/${info.uploads.good}$`));
  assert.equal(await page.locator("h1").innerText(), "Ubuntu 24.10 minimal");
  // The same again: already there.
  await page.goto(url("upload"));
  await page.getByLabel("Signed metadata file").setInputFiles(info.files.good);
  await page.getByRole("button", { name: "Upload" }).click();
  assert.match(await page.locator("#outcome").innerText(), /Already published/);
  await page.context().close();
});

test("forms refuse cross-site and token-less posts", { timeout: 30000 }, async () => {
  const page = await newPage();
  await page.goto(url("upload"));
  const file = { name: "x.xml", mimeType: "application/rdf+xml", buffer: Buffer.from("<x/>") };
  // The browser's cookie but no form token: refused.
  let r = await page.request.post(url("upload"), {
    headers: { Origin: info.url },
    multipart: { "Metadata File": file },
  });
  assert.equal(r.status(), 403);
  // With the token but from another site: refused.
  const token = await page.locator("input[name=csrf_token]").inputValue();
  r = await page.request.post(url("upload"), {
    headers: { Origin: "https://attacker.example", "Sec-Fetch-Site": "cross-site" },
    multipart: { csrf_token: token, "Metadata File": file },
  });
  assert.equal(r.status(), 403);
  // With both, the document itself is judged (and refused: not a document).
  r = await page.request.post(url("upload"), {
    headers: { Origin: info.url },
    multipart: { csrf_token: token, "Metadata File": file },
  });
  assert.equal(r.status(), 400);
  await page.context().close();
});

test("e-mail confirmation: the upload waits, the mailed links confirm or abort it", { timeout: 90000 }, async () => {
  problems = [];
  const page = await newPage();
  await page.goto(url("upload"));
  let seen = mails.length;
  await page.getByLabel("Signed metadata file").setInputFiles(info.files.pending);
  await page.getByRole("button", { name: "Upload" }).click();
  await page.waitForSelector("#outcome");
  const outcome = await page.locator("#outcome").innerText();
  assert.match(outcome, /Waiting for e-mail confirmation/);
  assert.match(outcome, /carol@example\.org/);
  await shot(page, "upload-pending.png");
  let r = await page.request.get(url(`images/${info.uploads.pending}`));
  assert.equal(r.status(), 404, "nothing is public before confirmation");
  let mail = await mailTo("carol@example.org", seen);
  // The mailed link opens a page; only its button decides.
  await page.goto(mail.confirm);
  assert.match(await page.locator("h1").innerText(), /Confirm upload/);
  await shot(page, "confirm.png");
  await page.getByRole("button", { name: /Confirm/ }).click();
  await page.waitForLoadState();
  assert.match(await page.locator("main").innerText(), /metadata entry created/);
  r = await page.request.get(url(`images/${info.uploads.pending}`));
  assert.equal(r.status(), 200);
  // Abort.
  seen = mails.length;
  await page.goto(url("upload"));
  await page.getByLabel("Signed metadata file").setInputFiles(info.files.abort);
  await page.getByRole("button", { name: "Upload" }).click();
  await page.waitForSelector("#outcome");
  mail = await mailTo("carol@example.org", seen);
  await page.goto(mail.abort);
  await page.getByRole("button", { name: /Abort/ }).click();
  await page.waitForLoadState();
  assert.match(await page.locator("main").innerText(), /aborted addition of metadata entry/);
  r = await page.request.get(url(`images/${info.uploads.abort}`));
  assert.equal(r.status(), 404);
  await assertInert(page, "confirmation");
  await page.context().close();
});

test("XSS attempts in every field show as text and never run", { timeout: 180000 }, async () => {
  problems = [];
  const page = await newPage();
  const xssEmail = encodeURIComponent(info.endorsers.xss).replace(/'/g, "%27");
  const pages = [
    "metadata",
    "metadata?status=all",
    "metadata?q=%3Cscript%3E&status=all",
    `metadata?os=%22%3E%3Cscript%3Ewindow.__xss%3D'reflected'%3C%2Fscript%3E&vo=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&endorser=${xssEmail}`,
    `metadata?endorser=${xssEmail}&status=all`,
    `images/${info.ids.xss}`,
    `images/${info.ids.xss_deprecated}`,
    "endorsers",
    `endorsers/${xssEmail}?range=3650`,
    `endorsers/${xssEmail}/tags`,
    "metadata/%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E/a%40b.org/2025-01-01T00:00:00Z",
    "images/%3Cimg%20src%3Dx%20onerror%3Dwindow.__xss%3D2%3E",
  ];
  for (const p of pages) {
    await page.goto(url(p));
    await poke(page);
    await assertInert(page, p);
  }
  // Every payload is visible as text on the image page.
  await page.goto(url(`images/${info.ids.xss}`));
  const text = await page.locator("main").innerText();
  for (const payload of [
    "<script>window.__xss='title'",
    "<img src=x onerror=\"window.__xss='description'",
    "<svg onload=\"window.__xss='os'\">",
    "<iframe src=\"javascript:window.__xss='type'\">",
    "javascript:window.__xss='location'",
    "<b onmouseover=\"window.__xss='tag'\">",
    "<script>window.__xss='vo'</script>",
    "<script>window.__xss='reason'</script>",
    "x'onmouseover='window.__xss=1'@xss.example.org",
    "alert('subject')",
  ]) {
    assert.ok(text.includes(payload), `shown as text: ${payload}`);
  }
  // Locations that are not web addresses are not links; links are not javascript:.
  assert.equal(await page.locator('#about a[href^="javascript"], #about a[href^="data"]').count(), 0);
  await shot(page, "xss.png");
  // The tag link and the entries of the XSS endorser.
  await page.goto(url(`endorsers/${xssEmail}?range=3650`));
  await page.locator(".tag-list a").first().click();
  await page.waitForLoadState();
  await poke(page);
  await assertInert(page, "tag link");
  await page.context().close();
});

test("every page fits a phone", { timeout: 60000 }, async () => {
  problems = [];
  const page = await newPage({ viewport: { width: 390, height: 844 } });
  const xssEmail = encodeURIComponent(info.endorsers.xss).replace(/'/g, "%27");
  for (const p of [
    "metadata?status=all",
    `images/${info.ids.ubuntu24}`,
    `images/${info.ids.xss}`,
    `metadata/${info.ids.ubuntu24}/alice@example.org/2024-10-01T09:00:00Z`,
    "endorsers",
    `endorsers/alice@example.org?range=3650`,
    `endorsers/${xssEmail}?range=3650`,
    "upload",
  ]) {
    await page.goto(url(p));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${p}: ${overflow}px wider than the phone`);
  }
  await assertInert(page, "phone");
  await page.context().close();
});

test("headers: a strict Content-Security-Policy and no framing on every page", { timeout: 30000 }, async () => {
  const page = await newPage();
  for (const p of ["metadata", `images/${info.ids.ubuntu24}`, "endorsers", "upload", "static/app.css", "no/such/page"]) {
    const r = await page.request.get(url(p), { headers: { Accept: "text/html" } });
    const h = r.headers();
    assert.match(h["content-security-policy"], /default-src 'self'/, p);
    assert.match(h["content-security-policy"], /frame-ancestors 'none'/, p);
    assert.doesNotMatch(h["content-security-policy"], /unsafe-inline|unsafe-eval/, p);
    assert.equal(h["x-frame-options"], "DENY", p);
    assert.equal(h["x-content-type-options"], "nosniff", p);
    assert.ok(h["referrer-policy"], p);
  }
  await page.context().close();
});
