"""What the docs tests share: where the site is, the browser's viewport, and loading a page until it is ready."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_docs"
SHOTS = ROOT / "reports" / "docs"
WIDTH, HEIGHT = 1280, 900

# What the page shows, read in the browser once it has loaded, its images are complete and its charts are drawn.
PAGE_STATE_JS = """
return {
  title: document.title,
  h1: [...document.querySelectorAll('article h1')].map(h => h.textContent.trim()),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  resources: [...document.querySelectorAll('script[src]')].map(s => s.src)
     .concat([...document.querySelectorAll('link[href]')].map(l => l.href)),
  images: [...document.querySelectorAll('img')].map(i => ({src: i.currentSrc || i.src, complete: i.complete,
     w: i.naturalWidth, h: i.naturalHeight})),
  charts: [...document.querySelectorAll('.nb-vega')].map(c => {
     const g = c.querySelector('svg, canvas'); const r = g ? g.getBoundingClientRect() : null;
     return {id: c.id, embedded: c.classList.contains('vega-embed'), graphic: g ? g.tagName.toLowerCase() : null,
             w: r ? r.width : 0, h: r ? r.height : 0, marks: c.querySelectorAll('svg .role-mark > *').length,
             error: c.classList.contains('nb-vega-error') ? c.textContent : null};
  }),
  nav: [...document.querySelectorAll('nav.md-nav--primary a.md-nav__link[href]')].map(a => a.href),
  text: document.querySelector('article') ? document.querySelector('article').innerText : '',
};
"""

READY_JS = """
if (document.readyState !== 'complete') return false;
if (![...document.images].every(i => i.complete)) return false;
return [...document.querySelectorAll('.nb-vega')].every(c => c.querySelector('svg, canvas') || c.classList.contains('nb-vega-error'));
"""


def load(browser, url: str, timeout: float = 60) -> dict:
    "Open `url`, wait until it is ready (images complete, charts drawn) and return its state."
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get(url)
    WebDriverWait(browser, timeout, poll_frequency=0.1).until(lambda d: d.execute_script(READY_JS))
    return browser.execute_script(PAGE_STATE_JS)


