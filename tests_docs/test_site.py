"""The docs site as a reader sees it: pages load, links resolve, figures and charts show, navigation and search work.

Run `make docs` first (`make test-docs` does both). Screenshots of the home page, the GRPO library page and the
GRPO run page are written to reports/docs/.
"""
import re
import struct
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from browse import HEIGHT, SHOTS, SITE, WIDTH, load

LIBRARY_PAGE, RUN_PAGE = "grpo.html", "grpo_run.html"


class Ids(HTMLParser):
    "Every id in an HTML file."
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(v for k, v in attrs if k in ("id", "name") and v)


def ids_of(path: Path, _cache={}) -> set:
    if path not in _cache:
        p = Ids()
        p.feed(path.read_text(errors="replace"))
        _cache[path] = p.ids
    return _cache[path]


def local_file(url: str, base: str) -> Path | None:
    "The file under _docs/ a same-site URL points to (None for other sites)."
    if not url.startswith(base):
        return None
    path = unquote(urlsplit(url).path)
    f = SITE / path.lstrip("/")
    return f / "index.html" if path.endswith("/") else f


def test_every_page_loads(crawl, manifest, server):
    assert len(crawl) == len(manifest["pages"]) >= 40
    for page, s in crawl.items():
        assert s["h1"], f"{page}: no title heading"
        bad = [(p, c) for p, c in s["requests"] if c >= 400]
        assert not bad, f"{page}: failed requests {bad}"
        assert any(p.split("?")[0].endswith("/" + page) for p, c in s["requests"] if c == 200), page
        offsite = [u for u in s["resources"] + [i["src"] for i in s["images"]] if not u.startswith(server.url)]
        assert not offsite, f"{page}: loads from elsewhere {offsite}"        # the site works offline
        errors = [m["message"] for m in s["console"] if m["level"] == "SEVERE"]
        assert not errors, f"{page}: console errors {errors}"


def test_internal_links_resolve(crawl, server):
    checked = 0
    for page, s in crawl.items():
        for url in s["links"] + s["resources"] + [i["src"] for i in s["images"]]:
            f = local_file(url, server.url)
            if f is None:
                continue
            assert f.is_file(), f"{page}: broken link {url}"
            frag = urlsplit(url).fragment
            if frag and f.suffix == ".html":
                assert unquote(frag) in ids_of(f), f"{page}: {url} has no anchor #{frag}"
            checked += 1
    assert checked > 1000      # navigation alone links every page from every page


def test_no_link_leaves_for_the_published_site(crawl):
    "nbdev's doc links (to doc_host) are re-pointed at the local pages."
    for page, s in crawl.items():
        assert not [u for u in s["links"] if "coldstart-nb.github.io" in u], page


def test_images_show(crawl):
    n = 0
    for page, s in crawl.items():
        for i in s["images"]:
            assert i["complete"] and i["w"] > 0 and i["h"] > 0, f"{page}: image not shown {i['src']}"
            n += 1
    home = [i["src"] for i in crawl["index.html"]["images"]]
    assert sum("reports/figures/" in u for u in home) >= 4, home     # the README's figures on the home page
    assert any("/figures/report/" in i["src"] and i["src"].endswith(".svg") for i in crawl["report.html"]["images"])
    assert n >= 8


def test_charts_render(crawl, manifest):
    want = {p["page"]: p["charts"] for p in manifest["pages"]}
    assert want[RUN_PAGE] >= 1 and sum(want.values()) >= 5
    for page, s in crawl.items():
        assert len(s["charts"]) == want[page], page
        for c in s["charts"]:
            assert c["error"] is None, f"{page}: {c['error']}"
            assert c["embedded"] and c["graphic"] in ("svg", "canvas") and c["w"] > 50 and c["h"] > 50, (page, c)
            assert c["marks"] > 0, (page, c)                  # something drawn, not an empty frame


def test_no_raw_quarto_or_nbdev_syntax(crawl):
    "What Quarto would have consumed is gone: cell options, fenced divs, Pandoc link attributes."
    for page, s in crawl.items():
        lines = s["text"].splitlines()
        assert not [l for l in lines if re.match(r"\s*#\|\s*[\w-]+", l)], f"{page}: a `#|` directive shows"
        assert not [l for l in lines if l.strip().startswith(":::")], page
        assert '{target="_blank"' not in s["text"], page
        assert "show_doc(" not in s["text"], f"{page}: a show_doc call shows instead of its documentation"


def test_nbdev_processes_every_notebook(manifest):
    "nbdev's own processing (what `nbdev_docs` runs before Quarto on GitHub) succeeds on every notebook."
    bad = manifest["nbdev_fallbacks"]
    assert not bad, (f"nbdev's docs processing fails on {len(bad)} notebook(s), so the GitHub workflow's Quarto build "
                     f"stops there (this site shows them with a workaround; see `make docs`): {bad}")


def test_show_doc_for_every_exported_name():
    "Each public top-level name in nbdev's index (_modidx) is documented on its page, under the anchor its doc link uses."
    from coldstart_nb._modidx import d
    missing = []
    for mod, syms in d["syms"].items():
        for name, (doc, _) in syms.items():
            if name.count(".") != mod.count(".") + 1 or name.rsplit(".", 1)[1].startswith("_"):
                continue                                    # methods go with their class; nbdev skips private names
            page, _, anchor = doc.partition("#")
            if not (SITE / page).exists() or anchor not in ids_of(SITE / page):
                missing.append(doc)
    assert not missing, f"{len(missing)} exported names without documentation: {missing[:20]}"


def test_navigation_lists_every_page_in_notebook_order(crawl, manifest, server):
    nav = [u[len(server.url):] for u in crawl["index.html"]["nav"] if u.startswith(server.url)]
    pages = [p["page"] for p in manifest["pages"]]
    assert set(pages) <= set(nav), set(pages) - set(nav)
    srcs = {p["page"]: p["src"] for p in manifest["pages"]}
    order = [Path(srcs[p]).name.split("_")[0] for p in dict.fromkeys(nav) if p in srcs]   # `49`, `00a`, `index.ipynb`
    assert order == sorted(order, key=lambda x: (x != "index.ipynb", x)), order
    for page, s in crawl.items():                         # every page carries the same navigation
        assert len(s["nav"]) >= len(pages), page


@pytest.mark.parametrize("term,page", [("GRPO", LIBRARY_PAGE), ("group_advantages", LIBRARY_PAGE)])
def test_search_finds(browser, server, term, page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    load(browser, server.url + "index.html")
    box = browser.find_element(By.CSS_SELECTOR, "input.md-search__input")
    browser.execute_script("document.getElementById('__search').checked = true;")
    box.click()
    box.send_keys(term)

    def hits(d):
        items = d.find_elements(By.CSS_SELECTOR, ".md-search-result__item a")
        return [a.get_attribute("href") for a in items] or False
    urls = WebDriverWait(browser, 30, poll_frequency=0.2).until(hits)
    assert any(urlsplit(u).path.endswith("/" + page) for u in urls), urls


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_screenshots(browser, server):
    "Home, the GRPO library page and the GRPO run page (scrolled to its chart), 1280x900, into reports/docs/."
    SHOTS.mkdir(parents=True, exist_ok=True)
    shots = {"home.png": ("index.html", None), "library_grpo.png": (LIBRARY_PAGE, None),
             "run_grpo.png": (RUN_PAGE, ".nb-chart")}
    for name, (page, scroll_to) in shots.items():
        load(browser, server.url + page)
        if scroll_to:                            # the cell that makes the chart at the top, the chart below it
            browser.execute_script(f"const el = document.querySelector('{scroll_to}').previousElementSibling;"
                                   "window.scrollBy(0, el.getBoundingClientRect().top - 64);")
        time.sleep(0.8)                          # the header's title transition after a scroll
        out = SHOTS / name
        assert browser.save_screenshot(str(out)), name
        assert png_size(out) == (WIDTH, HEIGHT), name
        assert 20_000 < out.stat().st_size < 2_000_000, (name, out.stat().st_size)
