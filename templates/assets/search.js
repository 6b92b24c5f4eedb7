// The search page: asks the Pagefind index in pagefind/ for the words of ?q= and lists the
// pages found. Links stay relative, so the site works from any folder.
const box = document.querySelector(".search");
const root = box.dataset.root;
const input = document.getElementById("search-q");
const status = document.querySelector(".search-status");
const list = document.querySelector(".search-results");
const query = new URLSearchParams(location.search).get("q") || "";
input.value = query;

function item(data) {
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.href = root + data.url.replace(/^\//, "");
  a.textContent = (data.meta && data.meta.title) || data.url;
  const p = document.createElement("p");
  // Pagefind's excerpt is the page's own text, escaped, with <mark> around the words found.
  p.innerHTML = data.excerpt;
  li.append(a, p);
  return li;
}

async function run() {
  if (!query.trim()) {
    input.focus();
    return;
  }
  status.textContent = "Searching…";
  try {
    const pagefind = await import(root + "pagefind/pagefind.js");
    const found = await pagefind.search(query);
    const pages = await Promise.all(found.results.slice(0, 20).map((r) => r.data()));
    list.replaceChildren(...pages.map(item));
    const n = found.results.length;
    status.textContent = n === 0 ? `Nothing found for “${query}”.`
      : `${n} ${n === 1 ? "page" : "pages"} found for “${query}”${n > 20 ? ", the first 20 shown" : ""}.`;
  } catch (e) {
    status.textContent = "Search needs the site to be served over http (driftless serve, or any web server).";
  }
}
run();
