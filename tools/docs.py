"""Build the docs site from the notebooks without Quarto: nbdev's own processing, rendered by MkDocs (Material).

The GitHub workflow builds the site with Quarto (`nbdev_docs`), which has no binary in the registries reachable here.
This builds the same site locally, in three steps:

1. **nbdev's processing.** Each notebook goes through `nbdev.serve_drv.main` with nbdev's `FilterDefaults`, the
   exact per-notebook step of `nbdev.serve.proc_nbs` (what `nbdev_docs` runs before Quarto): the title cell
   becomes front matter, `#| hide` / `#| export` cells go, `show_doc` cells are added and executed for every
   exported name, backticked names become links. Processed notebooks land in `_proc/`. A notebook on which
   nbdev's processing raises is processed again with one change (a cell that mixes imports with other code
   runs its imports only) and named in the build's output: Quarto's build would stop there.
2. **Quarto's part, in Python.** The processed notebooks still carry the cell options Quarto reads (`#| echo`,
   `#| output`, `#| include`, `#| eval`, `#| code-fold`); each becomes a Markdown page honouring them.
   Outputs: text, HTML tables, Markdown (the `show_doc` blocks), PNG/JPEG/SVG images (written as files) and
   Altair/Vega-Lite charts, which are drawn in the browser by the Vega bundle of `vl-convert` (the Vega,
   Vega-Lite and Vega-Embed builds, all offline: no CDN). Standard-error streams (warnings, progress bars)
   are left out. Page names follow Quarto (`40_grpo.ipynb` -> `grpo.html`), so nbdev's doc links work.
3. **MkDocs** with the Material theme renders the pages into `_docs/`, with navigation in notebook order
   and full-text search; no web fonts or other network resources.

A run notebook (`*_run`, `99_paper`) is shown executed: its page is papermill's copy for the embedded
default (`reports/runs/<name>_embedded.ipynb`), and its other executed copies (`_rehearsal`, ...) are pages
beside it. Without an executed copy the notebook itself (no outputs) is shown.

    python tools/docs.py               # build _docs/ (a notebook is processed again only when it, the library or
                                       # settings.ini changed)
    python tools/docs.py --force       # process every notebook again
    python tools/docs.py --strict      # fail if nbdev's processing fails on any notebook (as Quarto's build would)
"""
import argparse
import ast
import base64
import hashlib
import html
import json
import os
import re
import shutil
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS, RUNS = ROOT / "nbs", ROOT / "reports" / "runs"
PROC = ROOT / "_proc"                      # processed notebooks (nbdev's name for it)
MK = PROC / "mkdocs"                       # the MkDocs project: mkdocs.yml and docs/ (generated Markdown)
SITE = ROOT / "_docs"                      # settings.ini's doc_path
ASSET_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".html", ".pdf"}   # copied when a page links them
RUN_DEFAULT = "embedded"                   # the executed copy shown on a run notebook's own page
PROCESSING = 3                             # bump when step 1 changes: every notebook is processed again


def settings() -> dict:
    "settings.ini's [DEFAULT] section."
    from configparser import ConfigParser
    cfg = ConfigParser(delimiters=["="])
    cfg.read(ROOT / "settings.ini", encoding="utf-8")
    return dict(cfg["DEFAULT"])


def is_run(stem: str) -> bool:
    "A papermill-driven run notebook (executed copies in reports/runs/)."
    return stem.endswith("_run") or stem == "99_paper"


# --- 1. nbdev's processing ------------------------------------------------------------------------------------

def _lenient_filter():
    "nbdev's `FilterDefaults` with `exec_show_docs` replaced by one that runs only the imports of a mixed cell."
    from nbdev.processors import FilterDefaults, _do_eval, _show_docs, exec_show_docs
    from fastcore.basics import str2bool

    class exec_show_docs_imports(exec_show_docs):
        "`exec_show_docs`, except that a cell mixing imports with other code runs its imports only"
        def __call__(self, cell):
            if not self.nb.has_docs_ or not hasattr(self, "k"): return
            if str2bool(getattr(self.nb, "frontmatter_", {}).get("skip_showdoc", False)): return
            if not _do_eval(cell): return
            trees = cell.parsed_()
            imports = [t for t in trees if isinstance(t, (ast.Import, ast.ImportFrom))]
            shown = cell.directives_.keys() & {"export", "exports", "exporti", "exec_doc"} or _show_docs(trees)
            if shown or len(imports) == len(trees): self.k.cell(cell)
            elif imports: self.k.run_cell("\n".join(ast.unparse(t) for t in imports))
            if self.k.exc:
                raise Exception(f"Error in cell {cell.idx_}:\n{cell.source}") from self.k.exc

    class LenientFilter(FilterDefaults):
        def base_procs(self):
            return [exec_show_docs_imports if p is exec_show_docs else p for p in super().base_procs()]
    return LenientFilter


def process_one(job: tuple[str, str]) -> dict:
    "Process one notebook with nbdev (in a worker): {'src', 'fallback': why nbdev's own processing failed, or None}."
    src, dst = map(Path, job)
    os.chdir(ROOT)
    warnings.filterwarnings("ignore")           # nbdev's "imports and other code" warning: reported below instead
    from nbdev.processors import FilterDefaults
    from nbdev.serve_drv import main
    def why(e):
        cause = f" ({type(e.__cause__).__name__}: {e.__cause__})" if e.__cause__ else ""
        lines = str(e).splitlines()
        return lines[0].rstrip(" :") + cause + (f"; the cell starts `{lines[1].strip()}`" if len(lines) > 1 else "")
    rec = {"src": src.relative_to(ROOT).as_posix(), "fallback": None, "error": None}
    try:
        main((src, dst, FilterDefaults))
    except Exception as e:                       # what makes `nbdev_docs` (Quarto's build) stop
        rec["fallback"] = why(e)
        try:
            main((src, dst, _lenient_filter()))
        except Exception as e2:
            rec["error"] = why(e2)
            dst.unlink(missing_ok=True)
    finally:
        os.environ.pop("IN_TEST", None)
    return rec


def process_all(sources: list[Path], workers: int, force: bool) -> dict:
    "Process `sources` into _proc/ (skipped when neither it nor the library or settings changed); {src: record}."
    manifest_path = PROC / "manifest.json"
    manifest = {} if force or not manifest_path.exists() else json.loads(manifest_path.read_text())
    if manifest.get("_processing") != PROCESSING:
        manifest = {}
    deps = hashlib.sha256()                      # what a processed notebook depends on besides itself, by content
    for f in [ROOT / "settings.ini", *sorted((ROOT / "coldstart_nb").glob("*.py"))]:
        deps.update(f.name.encode() + f.read_bytes())
    jobs, keys = [], {}
    for src in sources:
        dst = proc_path(src)
        rel = src.relative_to(ROOT).as_posix()
        keys[rel] = hashlib.sha256(deps.digest() + src.read_bytes()).hexdigest()
        old = manifest.get(rel, {})
        if force or not dst.exists() or old.get("key") != keys[rel] or old.get("error"):
            dst.parent.mkdir(parents=True, exist_ok=True)
            jobs.append((str(src), str(dst)))
    if jobs:
        sys.path.insert(0, str(Path(__file__).parent))
        from docs import process_one         # by module name: the spawned workers import it (not `__main__`)
        with ProcessPoolExecutor(max_workers=max(1, min(workers, len(jobs))), mp_context=get_context("spawn")) as ex:
            for rec in ex.map(process_one, jobs):
                manifest[rec["src"]] = {**rec, "key": keys[rec["src"]]}
    manifest = {k: v for k, v in manifest.items() if k != "_processing" and (ROOT / k).exists()}
    manifest_path.write_text(json.dumps({"_processing": PROCESSING, **manifest}, indent=1))
    print(f"nbdev processing: {len(jobs)} notebook(s) processed, {len(sources) - len(jobs)} unchanged")
    return manifest


def proc_path(src: Path) -> Path:
    "Where nbdev's processing of `src` is written."
    return PROC / ("runs" if src.parent == RUNS else "") / src.name


# --- 2. the pages ---------------------------------------------------------------------------------------------

class Page:
    "One page of the site: the notebook it comes from, its processed copy and its name (Quarto's output file)."
    def __init__(self, src: Path, name: str, label: str | None = None, variant: str | None = None):
        self.src, self.name, self.label, self.variant = src, name, label, variant
        self.proc = proc_path(src)
        self.nb = None
        self.meta = {}

    @property
    def md(self) -> str: return self.name + ".md"


def plan() -> list:
    "The site's pages in notebook order: [Page | (section title placeholder, [Page, ...])]."
    notebooks = sorted(NBS.glob("*.ipynb"), key=lambda p: (p.stem != "index", p.name))
    out = []
    for nb in notebooks:
        base = quarto_name(nb)
        copies = sorted(RUNS.glob(f"{nb.stem}_*.ipynb")) if is_run(nb.stem) else []
        copies = [c for c in copies if re.fullmatch(r"[\w.-]+", c.stem[len(nb.stem) + 1:])]
        if not copies:
            out.append(Page(nb, base))
            continue
        variants = {c.stem[len(nb.stem) + 1:]: c for c in copies}
        first = RUN_DEFAULT if RUN_DEFAULT in variants else None
        pages = [Page(variants[first], base, variant=first)] if first else [Page(nb, base, label="the notebook")]
        pages += [Page(c, f"{base}_{v}", variant=v) for v, c in variants.items() if v != first]
        out.append((nb, pages))
    return out


def quarto_name(nb: Path) -> str:
    "Quarto's output name for a notebook: its number prefix dropped (`40_grpo` -> `grpo`, `00a_images` -> `images`)."
    return re.sub(r"^\d+[a-z]?_", "", nb.stem) if nb.stem != "index" else "index"


def slugify(value: str, separator: str = "-") -> str:
    "Heading ids as Pandoc (Quarto) makes them: lower case; letters, digits, `_`, `-`, `.` kept; spaces become `-`."
    value = re.sub(r"<[^>]+>", "", value).strip().lower()
    value = re.sub(r"[^\w\s.-]", "", value)
    value = re.sub(r"\s+", separator, value)
    return re.sub(r"^[^a-z]+", "", value) or "section"


_re_ansi = re.compile(r"\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])")


def text_of(x) -> str:
    return "".join(x) if isinstance(x, list) else (x or "")


def clean_stream(text: str) -> str:
    "Terminal text as a terminal shows it: ANSI codes removed, each line's last carriage-return segment kept."
    text = _re_ansi.sub("", text)
    return "\n".join(line.split("\r")[-1] for line in text.split("\n"))


def fence(code: str, lang: str = "") -> str:
    "A fenced code block longer than any backtick run in `code`."
    ticks = "`" * max(3, max((len(m) for m in re.findall(r"`+", code)), default=0) + 1)
    return f"{ticks}{lang}\n{code.rstrip()}\n{ticks}"


def pre(text: str, cls: str = "nb-text") -> str:
    "An output block as raw HTML (kept verbatim by Markdown, styled as output rather than source)."
    return f'<pre class="nb-output {cls}"><code>{html.escape(text.rstrip())}</code></pre>'


def cell_options(source: str) -> tuple[dict, str]:
    "Quarto's `#| key: value` cell options left by nbdev's processing, and the source without them."
    opts, lines = {}, source.splitlines()
    while lines and lines[0].startswith("#|"):
        key, _, val = lines.pop(0)[2:].partition(":")
        opts[key.strip()] = val.strip().strip("\"'")
    return opts, "\n".join(lines)


def altair_spec(doc: str):
    "The Vega-Lite spec inside Altair's HTML output (`(function(spec, embedOpt){...})(spec, opts)`), else None."
    if "vega-embed" not in doc and "vegaEmbed" not in doc:
        return None
    i = doc.rfind("})(")
    if i < 0:
        return None
    try:
        spec, _ = json.JSONDecoder().raw_decode(doc, i + 3)
    except ValueError:
        return None
    return spec if isinstance(spec, dict) else None


class Renderer:
    "Turns processed notebooks into the MkDocs project's Markdown, fixing links and writing outputs' files."

    def __init__(self, pages: list[Page], cfg: dict, docs: Path):
        self.pages, self.cfg, self.docs = pages, cfg, docs
        self.doc_url = cfg["doc_host"].rstrip("/") + "/" + cfg.get("doc_baseurl", "").strip("/") + "/"
        self.blob = f"{cfg['git_url'].rstrip('/')}/blob/{cfg.get('branch', 'main')}/"
        self.names = {p.name for p in pages}
        self.nb_pages = {p.src.name: p.name for p in pages if p.src.parent == NBS}
        for p in pages:                      # a run notebook links to its page even when an executed copy is shown
            if p.src.parent == RUNS and p.variant == RUN_DEFAULT:
                self.nb_pages[p.src.name[: -len(f"_{RUN_DEFAULT}.ipynb")] + ".ipynb"] = p.name
        self.missing = []                    # links to files that do not exist

    # links ---------------------------------------------------------------------------------------------------
    def target(self, url: str) -> str:
        "A link's target on the site: doc links and notebook links to pages, repository files copied or to GitHub."
        if url.startswith(self.doc_url):
            rest = url[len(self.doc_url):]
            path, _, frag = rest.partition("#")
            name = path[:-5] if path.endswith(".html") else path or "index"
            return f"{name}.md" + (f"#{frag}" if frag else "") if name in self.names else url
        if re.match(r"^[a-z][a-z0-9+.-]*:|^#|^//", url, re.I):
            return url
        path, _, frag = url.partition("#")
        frag = f"#{frag}" if frag else ""
        if path.endswith(".ipynb") and Path(path).name in self.nb_pages:
            return self.nb_pages[Path(path).name] + ".md" + frag
        if path.endswith(".html") and path[:-5] in self.names:
            return path[:-5] + ".md" + frag
        f = (NBS / path).resolve()
        if not f.exists() or ROOT not in f.parents:
            self.missing.append(url)
            return url
        rel = f.relative_to(ROOT).as_posix()
        if f.is_file() and f.suffix.lower() in ASSET_SUFFIXES:
            (self.docs / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, self.docs / rel)
            return rel + frag
        return self.blob.replace("/blob/", "/tree/") + rel if f.is_dir() else self.blob + rel + frag

    def fix_links(self, md: str) -> str:
        "Markdown link/image targets and HTML href/src attributes, re-pointed by `target`."
        md = re.sub(r"(\]\()(<?)([^)\s>]+)(>?)", lambda m: m[1] + m[2] + self.target(m[3]) + m[4], md)
        return re.sub(r'\b(href|src)="([^"]+)"', lambda m: f'{m[1]}="{self.html_target(m[2])}"', md)

    def html_target(self, url: str) -> str:
        "As `target`, for raw HTML (which MkDocs does not rewrite): `.md` becomes `.html`."
        t = self.target(url)
        return re.sub(r"\.md(#|$)", r".html\1", t) if not re.match(r"^[a-z]+:", t) else t

    # cells ---------------------------------------------------------------------------------------------------
    def output(self, o: dict, page: Page, key: str, asis: bool) -> str | None:
        "One output as Markdown/HTML, or None to leave it out."
        kind = o.get("output_type")
        if kind == "stream":
            return None if o.get("name") == "stderr" else pre(clean_stream(text_of(o.get("text"))))
        if kind == "error":
            return pre(clean_stream("\n".join(o.get("traceback", [])) or f"{o.get('ename')}: {o.get('evalue')}"), "nb-error")
        data = o.get("data", {})
        for mime in data:
            if re.fullmatch(r"application/vnd\.vegalite\.v\d+\+json", mime):
                return self.chart(data[mime], page)
        if "text/html" in data:
            doc = text_of(data["text/html"])
            spec = altair_spec(doc)
            if spec is not None:
                return self.chart(spec, page)
            doc = re.sub(r"\n\s*\n", "\n", doc.strip())          # blank lines would end Markdown's HTML block
            return f'<div class="nb-output nb-html">\n{self.fix_links(doc)}\n</div>'
        if "text/markdown" in data:
            md = self.fix_links(text_of(data["text/markdown"]))
            return md if asis else f'<div class="nb-output nb-markdown" markdown>\n\n{md}\n\n</div>'
        for mime, ext in (("image/svg+xml", "svg"), ("image/png", "png"), ("image/jpeg", "jpg"), ("image/gif", "gif")):
            if mime in data:
                rel = f"figures/{page.name}/{key}.{ext}"
                (self.docs / rel).parent.mkdir(parents=True, exist_ok=True)
                raw = text_of(data[mime])
                (self.docs / rel).write_bytes(raw.encode() if ext == "svg" else base64.b64decode(raw))
                alt = html.escape(text_of(data.get("text/plain", "")).strip(), quote=True)
                return f'<div class="nb-output nb-image"><img src="{rel}" alt="{alt}"></div>'
        if "text/latex" in data:
            return pre(text_of(data["text/latex"]))
        if "text/plain" in data:
            return pre(clean_stream(text_of(data["text/plain"])))
        return None

    def chart(self, spec: dict, page: Page) -> str:
        "A Vega-Lite chart: its spec inline, drawn by assets/charts.js with the offline Vega bundle."
        page.charts += 1
        js = json.dumps(spec).replace("</", "<\\/")
        return (f'<div class="nb-output nb-chart"><div class="nb-vega" id="vega-{page.name}-{page.charts}"></div>'
                f'<script type="application/json" class="nb-vega-spec">{js}</script></div>')

    def code_cell(self, cell: dict, page: Page, idx: int, lang: str) -> list[str]:
        opts, src = cell_options(text_of(cell.get("source")))
        low = {k: v.lower() for k, v in opts.items()}
        if low.get("include") == "false":
            return []
        parts = []
        if low.get("echo") != "false" and src.strip():
            block = fence(src, lang)
            if "code-fold" in low:                  # nbdev's `#| exports` cells: the source folded under a summary
                mark = "???+" if low["code-fold"] == "show" else "???"
                summary = opts.get("code-summary", "Code").replace('"', "'")
                block = f'{mark} source "{summary}"\n\n' + "\n".join("    " + l for l in block.splitlines())
            parts.append(block)
        if low.get("output") == "false":
            return parts
        asis = low.get("output") == "asis"
        outs, buf = [], []
        for k, o in enumerate(cell.get("outputs", [])):    # consecutive stdout chunks make one block
            if o.get("output_type") == "stream" and o.get("name") == "stdout":
                buf.append(text_of(o.get("text")))
                continue
            if buf:
                outs.append(pre(clean_stream("".join(buf)))); buf = []
            r = self.output(o, page, f"cell{idx:03d}-{k}", asis)
            if r: outs.append(r)
        if buf:
            outs.append(pre(clean_stream("".join(buf))))
        return parts + outs

    def render(self, page: Page, siblings: list[Page]) -> str:
        "The Markdown of one page."
        nb = json.loads(page.proc.read_text())
        lang = nb.get("metadata", {}).get("kernelspec", {}).get("language", "python")
        page.charts = 0
        body, title, desc = [], page.src.stem, ""
        for idx, cell in enumerate(nb["cells"]):
            src = text_of(cell.get("source"))
            if cell["cell_type"] == "raw" and src.startswith("---"):
                import yaml
                fm = yaml.safe_load(src.strip().strip("-")) or {}
                title, desc = fm.get("title", title), fm.get("description", "")
            elif cell["cell_type"] == "markdown":
                if src.strip().startswith("<!-- WARNING: THIS FILE WAS AUTOGENERATED"):
                    continue
                body.append(self.fix_links(src))
            elif cell["cell_type"] == "code":
                body += self.code_cell(cell, page, idx, cell.get("metadata", {}).get("language", lang))
        page.meta = {"title": title, "description": desc}
        head = [f"# {title}"]
        if desc:
            head.append(self.fix_links(" ".join(str(desc).split())) + "\n{ .nb-description }")
        head.append(self.provenance(page, siblings))
        md = "\n\n".join(head + body) + "\n"
        if page.charts:
            md += '\n<script src="assets/vega.js"></script>\n<script src="assets/charts.js"></script>\n'
        return md

    def provenance(self, page: Page, siblings: list[Page]) -> str:
        "Where the page comes from, and for an executed run which preset ran and where its other runs are."
        if page.src.parent == NBS:
            line = f'Source: [`nbs/{page.src.name}`]({self.blob}nbs/{page.src.name})'
            if is_run(page.src.stem):
                line += " (not executed here: `make reproduce` writes its executed copies to `reports/runs/`)"
        else:
            rel = page.src.relative_to(ROOT).as_posix()
            nbname = page.src.name[: -len(f"_{page.variant}.ipynb")] + ".ipynb"
            line = (f"Executed by papermill with preset `{page.variant}`: [`{rel}`]({self.blob}{rel}), "
                    f"from [`nbs/{nbname}`]({self.blob}nbs/{nbname}).")
        others = [p for p in siblings if p is not page]
        if others:
            line += " Other runs: " + ", ".join(f"[{p.variant or 'the notebook'}]({p.md})" for p in others) + "."
        return line + "\n{ .nb-source }"


def heading_ids(md: str) -> set:
    "The ids MkDocs will give the headings of `md` (outside fenced code), with the toc extension's `_1` for repeats."
    ids, seen, in_fence = set(), {}, None
    for line in md.splitlines():
        m = re.match(r"^\s*(`{3,}|~{3,})", line)
        if m:
            in_fence = None if in_fence and m[1].startswith(in_fence) else (in_fence or m[1])
            continue
        h = None if in_fence else re.match(r"^#{1,6}\s+(.+?)\s*#*\s*$", line)
        if h:
            slug = slugify(re.sub(r"\s*\{[^}]*\}\s*$", "", h[1]).replace("`", ""))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            ids.add(slug if n == 0 else f"{slug}_{n}")
    return ids


def repoint_anchors(md: str, ids: dict) -> tuple[str, int]:
    "Links to `page.md#a.b` (or `.html#a.b`) whose anchor has no heading point at `#a`, else at the page."
    n = 0

    def fix(m):
        nonlocal n
        page, ext, frag = m[1], m[2], m[3]
        if page not in ids or frag in ids[page]:
            return m[0]
        n += 1
        parts = frag.split(".")
        while len(parts) > 1:
            parts.pop()
            if ".".join(parts) in ids[page]:
                return f"{page}{ext}#{'.'.join(parts)}"
        return f"{page}{ext}"
    return re.sub(r"(?<![\w/.-])([\w-]+)(\.md|\.html)#([\w.-]+)", fix, md), n


# --- 3. MkDocs ------------------------------------------------------------------------------------------------

CSS = """
.md-typeset .nb-description { font-size: 1.05rem; color: var(--md-default-fg-color--light); margin-top: -0.4em; }
.md-typeset .nb-source { font-size: .7rem; color: var(--md-default-fg-color--light); }
.md-typeset pre.nb-output { margin: -0.4em 0 1.2em; }
.md-typeset pre.nb-output > code { background: transparent; border-left: 3px solid var(--md-default-fg-color--lightest);
  border-radius: 0; padding: .5em 1em; font-size: .72rem; white-space: pre; overflow-x: auto; }
.md-typeset pre.nb-error > code { border-left-color: #d32f2f; }
.md-typeset .nb-html { overflow-x: auto; margin: 0 0 1.2em; font-size: .72rem; }
.md-typeset .nb-html table { border-collapse: collapse; }
.md-typeset .nb-html th, .md-typeset .nb-html td { padding: .2em .6em; border: 1px solid var(--md-default-fg-color--lightest); }
.md-typeset .nb-image img { max-width: 100%; }
.md-typeset .nb-chart { overflow-x: auto; margin: 0 0 1.2em; }
"""

CHARTS_JS = """// Draws every Vega-Lite chart on the page (specs inline, next to their container) with the offline bundle.
(function () {
  for (const el of document.querySelectorAll(".nb-vega")) {
    const spec = JSON.parse(el.nextElementSibling.textContent);
    window.vegaEmbed(el, spec, {actions: false, renderer: "svg"})
      .catch(function (err) { el.textContent = "chart failed: " + err; el.classList.add("nb-vega-error"); console.error(err); });
  }
})();
"""


def mkdocs_config(nav: list, cfg: dict) -> dict:
    return {
        "site_name": cfg["title"],
        "site_description": cfg["description"],
        "site_author": cfg.get("author", ""),
        "copyright": f"Copyright {cfg.get('copyright', '')}",
        "docs_dir": "docs",
        "site_dir": str(SITE),
        "use_directory_urls": False,           # page URLs as Quarto's: grpo.html, as nbdev's doc links expect
        "theme": {"name": "material", "font": False, "language": "en",
                  "features": ["navigation.top", "navigation.footer", "search.highlight", "search.suggest",
                               "content.code.copy", "toc.follow"],
                  "palette": {"scheme": "default", "primary": "indigo", "accent": "indigo"}},
        "plugins": ["search"],
        "markdown_extensions": ["tables", "attr_list", "md_in_html", "admonition", "pymdownx.details",
                                {"pymdownx.highlight": {"use_pygments": True}}, "pymdownx.superfences",
                                {"toc": {"permalink": True}}],
        "extra_css": ["assets/notebook.css"],
        "extra": {"generator": False,
                  "social": [{"icon": "fontawesome/brands/github", "link": cfg["git_url"]}]},
        "validation": {"links": {"not_found": "warn", "anchors": "info", "unrecognized_links": "warn"}},
        "nav": nav,
    }


def build(args) -> int:
    t0 = time.time()
    cfg = settings()
    entries = plan()
    pages = [p for e in entries for p in (e[1] if isinstance(e, tuple) else [e])]
    manifest = process_all([p.src for p in pages], args.workers, args.force)
    srcs = {p.src.relative_to(ROOT).as_posix() for p in pages}
    fallbacks = {k: v["fallback"] for k, v in manifest.items() if k in srcs and v.get("fallback")}
    for src, why in sorted(fallbacks.items()):
        print(f"  nbdev's processing failed on {src} (Quarto's build would stop here): {why}\n"
              f"    shown with the imports of its mixed cells run alone; put those imports in a cell of their own")
    errors = {k: v["error"] for k, v in manifest.items() if k in srcs and v.get("error")}
    for src, why in sorted(errors.items()):
        print(f"  nbdev's processing failed on {src}, even with imports run alone: {why}")
    if errors:
        print("no site built: fix the notebooks above (is the library in step with them? `nbdev_export`)"); return 1
    if fallbacks and args.strict:
        print("--strict: stopping"); return 1
    t1 = time.time()

    if MK.exists():
        shutil.rmtree(MK)
    docs = MK / "docs"
    (docs / "assets").mkdir(parents=True)
    r = Renderer(pages, cfg, docs)
    texts = {}
    for e in entries:
        group = e[1] if isinstance(e, tuple) else [e]
        for p in group:
            texts[p.name] = r.render(p, group)
            p.label_title = p.meta["title"] + (f" ({p.variant})" if p.variant else "")
    ids = {name: heading_ids(md) for name, md in texts.items()}
    moved = 0
    for p in pages:
        md, n = repoint_anchors(texts[p.name], ids)
        moved += n
        (docs / p.md).write_text(f"---\ntitle: {json.dumps(p.label_title)}\n---\n\n" + md)
    if moved:
        print(f"  {moved} doc link(s) to a method without its own documentation now point at its class (or page)")
    nav = []
    for e in entries:
        group = e[1] if isinstance(e, tuple) else [e]
        if isinstance(e, tuple):
            nav.append({group[0].meta["title"]: [{(p.variant or p.label or "notebook"): p.md} for p in group]})
        else:
            nav.append({"Home" if e.name == "index" else e.meta["title"]: e.md})
    (docs / "assets" / "notebook.css").write_text(CSS.lstrip())
    (docs / "assets" / "charts.js").write_text(CHARTS_JS)
    import vl_convert
    (docs / "assets" / "vega.js").write_text(vl_convert.javascript_bundle())
    (docs / "manifest.json").write_text(json.dumps(
        {"pages": [{"page": p.name + ".html", "src": p.src.relative_to(ROOT).as_posix(), "title": p.label_title,
                    "charts": p.charts} for p in pages],
         "nbdev_fallbacks": fallbacks}, indent=1))
    if r.missing:
        print("  links to missing files (left as they are):", ", ".join(sorted(set(r.missing))))
    import yaml
    yml = MK / "mkdocs.yml"
    yml.write_text(yaml.safe_dump(mkdocs_config(nav, cfg), sort_keys=False, allow_unicode=True))
    t2 = time.time()

    from mkdocs.commands.build import build as mk_build
    from mkdocs.config import load_config
    import logging
    logging.basicConfig(level=logging.WARNING, format="  mkdocs %(levelname)s: %(message)s")
    warned = []

    class Count(logging.Handler):
        def emit(self, rec): warned.append(rec.getMessage())
    h = Count(logging.WARNING)
    logging.getLogger("mkdocs").addHandler(h)
    conf = load_config(str(yml))
    conf.mdx_configs.setdefault("toc", {})["slugify"] = slugify     # heading ids as Quarto's (nbdev links use them)
    mk_build(conf)
    logging.getLogger("mkdocs").removeHandler(h)
    print(f"site: {SITE.relative_to(ROOT)}/ ({len(pages)} pages, {sum(p.charts for p in pages)} charts); "
          f"nbdev {t1 - t0:.0f} s, pages {t2 - t1:.0f} s, mkdocs {time.time() - t2:.0f} s")
    if warned:
        print(f"{len(warned)} MkDocs warning(s)")
        return 1
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=int(os.environ.get("NBDEV_WORKERS", 2)))
    ap.add_argument("--force", action="store_true", help="process every notebook again")
    ap.add_argument("--strict", action="store_true", help="fail if nbdev's processing fails on a notebook")
    sys.exit(build(ap.parse_args()))
