// The published wiki as a reader sees it, in Debian's Chromium (never a downloaded browser):
// navigation, search, a figure's provenance, wiki and red links, no sideways scrolling on a
// phone, axe (no serious or critical finding) and the Nu HTML checker (no error).
//
//   node check.mjs <site folder> [<screenshot folder>]
//
// Serves the folder on a loopback port itself. Exits 1 if any check fails.
import { createServer } from "node:http";
import { readFile, stat, mkdir } from "node:fs/promises";
import { join, extname, normalize } from "node:path";
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";
import vnu from "vnu-jar";

const [site, shots] = process.argv.slice(2);
if (!site) {
  console.error("usage: node check.mjs <site folder> [<screenshot folder>]");
  process.exit(2);
}

const types = { ".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript",
  ".json": "application/json", ".svg": "image/svg+xml", ".csv": "text/csv", ".xml": "application/xml" };
const server = createServer(async (req, res) => {
  let path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
  let file = join(site, path);
  try {
    if ((await stat(file)).isDirectory()) file = join(file, "index.html");
    const body = await readFile(file);
    res.writeHead(200, { "content-type": types[extname(file)] || "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404, { "content-type": "text/html; charset=utf-8" });
    res.end(await readFile(join(site, "404.html")).catch(() => "not found"));
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const base = `http://127.0.0.1:${server.address().port}/`;

const failures = [];
function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const desk = await browser.newPage({ viewport: { width: 1280, height: 900 } });

  // Navigation: the header's link to the article.
  await desk.goto(base);
  await desk.click('nav.site-nav a:has-text("Self-Hosting LLMs vs API")');
  check((await desk.textContent("h1")).includes("Self-Hosting LLMs vs API"),
    "navigation: the header link opens the article");

  // Provenance: a derived figure in prose names its formula and opens where it comes from.
  const figure = desk.locator('.prose p a.figure[title*=": = "]').first();
  const title = await figure.getAttribute("title");
  check(/: = \S/.test(title || ""), `provenance: a figure's title names its formula (${title})`);
  await figure.click();
  await desk.waitForLoadState();
  const target = desk.locator(":target");
  const formula = (title || "").split(": = ")[1] || "?";
  const shown = (await target.count()) === 1 ? await target.textContent() : "";
  check(shown.replace(/\s+/g, " ").includes(formula.split(" ")[0]),
    `provenance: the figure opens where it comes from, which shows its formula (${desk.url()})`);

  // Search: "4090" finds the RTX 4090's page first.
  await desk.goto(base + "search/?q=4090");
  await desk.waitForSelector(".search-results li a", { timeout: 20000 });
  const first = await desk.locator(".search-results li a").first().getAttribute("href");
  check(first.endsWith("gpus/rtx-4090/"), `search: "4090" lists the RTX 4090 page first (${first})`);
  await desk.locator(".search-results li a").first().click();
  await desk.waitForLoadState();
  check((await desk.textContent("h1")).includes("RTX 4090"), "search: the result opens the page");

  // A wiki link and a red link (the test wiki adds an article with both).
  await desk.goto(base + "browser-check/");
  check((await desk.locator(".red-link").textContent()).includes("No such page"),
    "wiki links: a link to a missing page is shown as a red link");
  await desk.click('a:has-text("the RTX Pro 6000 page")');
  await desk.waitForLoadState();
  check((await desk.textContent("h1")).includes("RTX Pro 6000"), "wiki links: a wiki link opens its page");

  // Every kind of page, on a phone and on a desktop: no sideways scrolling, axe clean.
  const pages = ["", "self-hosting-llms-vs-api/", "nvidia-rtx-pro-6000/", "errata/", "data/",
    "data/gpus/", "gpus/rtx-4090/", "models/llama-3.3-70b/", "search/?q=quantization", "404.html"];
  for (const [name, width, height] of [["phone", 390, 844], ["desktop", 1280, 900]]) {
    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    for (const p of pages) {
      await page.goto(base + p);
      const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      check(wide <= 0, `${name}: /${p} does not scroll sideways (${wide} px too wide)`);
      const axe = await new AxeBuilder({ page }).analyze();
      const bad = axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      check(bad.length === 0, `${name}: /${p} axe: ${bad.length} serious or critical` +
        (bad.length ? ` (${bad.map((v) => `${v.id} x${v.nodes.length}`).join(", ")})` : ""));
      if (shots) {
        await mkdir(shots, { recursive: true });
        const file = (p.replace(/[/?=]+/g, "-").replace(/-$/, "") || "home") + `-${width}.png`;
        await page.screenshot({ path: join(shots, file), fullPage: false });
      }
    }
    await context.close();
  }
} finally {
  await browser.close();
  server.close();
}

// The Nu HTML checker over every published page.
try {
  execFileSync("java", ["-jar", vnu, "--errors-only", "--skip-non-html", site], { stdio: "pipe" });
  check(true, "Nu HTML checker: no error in any page");
} catch (e) {
  const out = `${e.stdout || ""}${e.stderr || ""}`.trim().split("\n");
  check(false, `Nu HTML checker: ${out.length} errors, first: ${out.slice(0, 5).join(" | ")}`);
}

if (failures.length) {
  console.log(`\n${failures.length} browser checks failed`);
  process.exit(1);
}
console.log("\nall browser checks passed");
