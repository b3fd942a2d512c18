"""Report -> the HTML panel shown under a traceback in Jupyter, JupyterLab, Colab, VS Code and saved notebooks.

Two layers, so that the panel survives every sanitiser:
- the markup alone reads well: semantic elements (strong, ol/li, ul, pre, details/summary), real spaces and
  separators between the parts, and `style` attributes of the few properties that HTML sanitisers keep
  (colour, background, border, margin, padding, font-weight, font-size, display). A saved notebook reopened
  untrusted in JupyterLab, nbconvert HTML, GitHub and VS Code show this layer;
- when the output is trusted (a live kernel), a `<style>` block scoped to `.dnnfix` adds layout and the copy
  buttons (hidden by an inline `display:none` that only the stylesheet's `!important` lifts, so that an
  untrusted view never shows a dead button).
No external fonts, scripts or images; colours are translucent or inherited, readable on light and dark themes.
Explanations are the cause's Markdown sections rendered with markdown-it-py (raw HTML in the knowledge base is
escaped, not passed through); long parts sit in <details>. Fixes carry the number `%dnnfix fix N` uses.
"""

from __future__ import annotations

import html
import re
from typing import Any, List, Optional, Sequence

from .report import Report, bar

_CSS = """
.dnnfix{font:13px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 border:1px solid rgba(127,127,127,.35);border-left:4px solid #2f81f7;border-radius:6px;padding:10px 14px 8px;
 margin:8px 0;max-width:1000px;box-sizing:border-box;background:rgba(127,127,127,.03)}
.dnnfix.dx-unsure{border-left-color:#c98a00}
.dnnfix code,.dnnfix pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12px}
.dnnfix .dx-head{display:flex;align-items:baseline;gap:10px;margin:0 0 8px}
.dnnfix .dx-brand{font-weight:700;background:#2f81f7;color:#fff;border-radius:4px;padding:1px 7px;font-size:12px}
.dnnfix.dx-unsure .dx-brand{background:#c98a00}
.dnnfix .dx-lead{font-weight:600}
.dnnfix .dx-ms{margin-left:auto;opacity:.6;font-size:11px}
.dnnfix .dx-cause{border-top:1px solid rgba(127,127,127,.2);padding:8px 0 6px}
.dnnfix .dx-cause:first-of-type{border-top:0;padding-top:2px}
.dnnfix .dx-row{display:flex;align-items:center;gap:8px;flex-wrap:wrap}
.dnnfix .dx-rank{display:inline-block;min-width:18px;height:18px;line-height:18px;text-align:center;border-radius:50%;
 background:rgba(127,127,127,.2);font-size:11px;font-weight:700}
.dnnfix .dx-title{font-weight:600;font-size:14px}
.dnnfix .dx-badge{font-size:11px;border-radius:10px;padding:0 8px;border:1px solid currentColor}
.dnnfix .dx-ok{color:#1f9d55}.dnnfix .dx-maybe{color:#c98a00}
.dnnfix .dx-meta{margin:2px 0 4px 26px;opacity:.8;font-size:12px;display:flex;align-items:center;gap:8px;flex-wrap:wrap}
.dnnfix .dx-bar{display:inline-block;width:80px;height:6px;border-radius:3px;background:rgba(127,127,127,.25);overflow:hidden}
.dnnfix .dx-bar>span{display:block;height:100%;background:#1f9d55}
.dnnfix.dx-unsure .dx-bar>span,.dnnfix .dx-weak .dx-bar>span{background:#c98a00}
.dnnfix ul.dx-ev{margin:2px 0 6px 26px;padding:0;list-style:none}
.dnnfix ul.dx-ev li{margin:1px 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.dnnfix .dx-plus{color:#1f9d55;font-weight:700}.dnnfix .dx-minus{color:#d64545;font-weight:700}
.dnnfix .dx-ln{opacity:.6;font-size:11px}
.dnnfix ul.dx-ev code{background:rgba(127,127,127,.12);border-radius:3px;padding:0 4px}
.dnnfix .dx-fix{margin:6px 0 4px 26px}
.dnnfix .dx-fixhead{display:flex;align-items:center;gap:8px;margin-bottom:2px}
.dnnfix .dx-n{font-size:11px;font-weight:700;border-radius:3px;padding:0 5px;background:rgba(47,129,247,.18)}
.dnnfix .dx-fixtitle{font-weight:600}
.dnnfix .dx-cmd{opacity:.6;font-size:11px}
.dnnfix pre{margin:2px 0 4px;padding:8px 10px;border-radius:5px;background:rgba(127,127,127,.12);overflow:auto;
 white-space:pre;position:relative}
.dnnfix .dx-copy{margin-left:auto;font-size:11px;cursor:pointer;border:1px solid rgba(127,127,127,.45);
 border-radius:4px;background:transparent;color:inherit;padding:0 7px;line-height:17px}
.dnnfix .dx-copy:hover{background:rgba(127,127,127,.18)}
.dnnfix details{margin:3px 0 3px 26px}
.dnnfix details>summary{cursor:pointer;opacity:.85;font-size:12px}
.dnnfix details>summary:hover{opacity:1}
.dnnfix .dx-md{padding:2px 0 2px 12px;border-left:2px solid rgba(127,127,127,.25);margin:4px 0}
.dnnfix .dx-md p{margin:4px 0}.dnnfix .dx-md ul,.dnnfix .dx-md ol{margin:4px 0;padding-left:20px}
.dnnfix .dx-md h4{font-size:13px;margin:6px 0 2px}
.dnnfix .dx-md code{background:rgba(127,127,127,.12);border-radius:3px;padding:0 3px}
.dnnfix pre code{background:none!important;padding:0}
.dnnfix .dx-family{margin:2px 0 6px}
.dnnfix .dx-sum{margin:2px 0 4px 26px;border-left:0;padding:0}
.dnnfix .dx-log pre{max-height:260px}
.dnnfix .dx-log mark{background:rgba(201,138,0,.3);color:inherit}
.dnnfix .dx-foot{margin-top:6px;padding-top:5px;border-top:1px solid rgba(127,127,127,.2);font-size:11px;opacity:.7}
.dnnfix .dx-foot code{background:rgba(127,127,127,.12);border-radius:3px;padding:0 3px}
.dnnfix a{color:#2f81f7}
.dnnfix .dx-copy{display:inline-block!important}
.dnnfix .dx-n,.dnnfix .dx-cmd,.dnnfix .dx-cmd code,.dnnfix .dx-badge{white-space:nowrap}
.dnnfix ol.dx-causes{list-style:none;padding:0;margin:0}
.dnnfix .dx-bar{display:inline-block!important}
.dnnfix .dx-tbar{display:none}
.dnnfix .dx-head strong.dx-brand{border-radius:4px}
.dnnfix ul.dx-ev li{list-style:none}
"""

# Copy the <pre> that follows the button's header; fall back to selecting it where the clipboard API is refused.
_COPY_JS = (
    "var p=this.parentNode.nextElementSibling,b=this,t=p.innerText,"
    "ok=function(){b.textContent='copied';setTimeout(function(){b.textContent='copy'},1500)},"
    "sel=function(){var r=document.createRange();r.selectNodeContents(p);var s=getSelection();"
    "s.removeAllRanges();s.addRange(r);try{document.execCommand('copy');ok()}catch(e){}};"
    "if(navigator.clipboard){navigator.clipboard.writeText(t).then(ok,sel)}else{sel()}"
)

_URL = re.compile(r"(?<![<(\[\"'`=])\bhttps?://[^\s<>)\]`'\"]+")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_MD = None


def esc(s: Any) -> str:
    return html.escape(str(s), quote=True)


def _autolink(m: "re.Match[str]") -> str:
    url = m.group(0)
    core = url.rstrip(".,;:")
    return f"<{core}>{url[len(core) :]}"


def markdown(text: str) -> str:
    """KB Markdown -> HTML: CommonMark, raw HTML escaped, bare URLs linked, links open in a new tab."""
    global _MD
    if _MD is None:
        from markdown_it import MarkdownIt

        _MD = MarkdownIt("commonmark", {"html": False})
    out: List[str] = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and "`" not in line:
            line = _URL.sub(_autolink, line)
        out.append(line)
    rendered = _MD.render("\n".join(out))
    rendered = rendered.replace("<a href=", '<a target="_blank" rel="noopener noreferrer" href=')
    return _copyable(rendered)


def _copyable(rendered: str) -> str:
    """Give every rendered code block a copy button."""
    btn = f'<div class="dx-fixhead">{_copy_button()}</div>'
    return rendered.replace("<pre>", btn + f"<pre{_st('pre')}>")


# Inline styles: only properties and values that HTML sanitisers keep, so an untrusted view keeps the look.
_GREY = "color:#8a8a8a"
_S = {
    "box": "border:1px solid #8a8a8a;border-left:4px solid {accent};padding:8px 12px;margin:8px 0",
    "brand": "background-color:{accent};color:#ffffff;padding:0 6px;font-weight:bold",
    "ms": _GREY + ";font-size:11px",
    "note": "margin:2px 0",
    "cause": "margin:6px 0 2px;padding-top:6px;border-top:1px solid #8a8a8a",
    "first": "margin:2px 0",
    "title": "font-size:14px",
    "ok": "color:#1f9d55;border:1px solid #1f9d55;padding:0 6px;font-size:11px",
    "maybe": "color:#c98a00;border:1px solid #c98a00;padding:0 6px;font-size:11px",
    "meta": "margin:2px 0 4px 22px;font-size:12px",
    "tbar": "color:{accent}",
    "ev": "margin:2px 0 6px 22px;padding-left:16px",
    "plus": "color:#1f9d55;font-weight:bold",
    "minus": "color:#d64545;font-weight:bold",
    "ln": _GREY + ";font-size:11px",
    "fix": "margin:6px 0 4px 22px",
    "n": "background-color:#2f81f7;color:#ffffff;padding:0 5px;font-size:11px;font-weight:bold",
    "cmd": _GREY + ";font-size:11px",
    "pre": "margin:2px 0 4px;padding:6px 8px;background-color:rgba(127,127,127,0.12);overflow:auto",
    "details": "margin:3px 0 3px 22px",
    "md": "padding:2px 0 2px 10px;border-left:2px solid #8a8a8a;margin:4px 0",
    "foot": "margin:6px 0 0;padding-top:4px;border-top:1px solid #8a8a8a;font-size:11px;" + _GREY,
    "family": "margin:2px 0 6px",
}
_BLUE, _AMBER = "#2f81f7", "#c98a00"


def _st(name: str, accent: str = _BLUE) -> str:
    return f' style="{_S[name].format(accent=accent)}"'


def _copy_button() -> str:
    # hidden inline; the trusted stylesheet shows it (an untrusted view has no script to run it)
    return (
        f' <button class="dx-copy" style="display:none" title="copy to the clipboard" '
        f'onclick="{esc(_COPY_JS)}">copy</button>'
    )


def code_block(code: str, language: str = "") -> str:
    cls = f' class="language-{esc(language)}"' if language else ""
    return f"<pre{_st('pre')}><code{cls}>{esc(code)}</code></pre>"


def _evidence(e) -> str:
    items = []
    for ev in e.evidence:
        mark = (
            f'<span class="dx-minus"{_st("minus")}>−</span>'
            if ev.against
            else f'<span class="dx-plus"{_st("plus")}>+</span>'
        )
        where = f' <span class="dx-ln"{_st("ln")}>line {ev.line}</span>' if ev.line else ""
        text = ev.text if len(ev.text) <= 400 else ev.text[:397] + "…"
        body = f"<code>{esc(text)}</code>" if ev.kind in ("regex", "phrase", "frames") else esc(text)
        if ev.against:
            body = "against: " + body
        items.append(f'<li title="{esc(ev.format())}">{mark}{where} {body}</li>')
    return f'<ul class="dx-ev"{_st("ev")}>{"".join(items)}</ul>' if items else ""


def _fix(f) -> str:
    num = f'<strong class="dx-n"{_st("n")}>fix {f.n}</strong> ' if f.n else ""
    cmd = f' <span class="dx-cmd"{_st("cmd")}>· <code>%dnnfix fix {f.n}</code></span>' if f.n else ""
    return (
        f'<div class="dx-fix"{_st("fix")}><div class="dx-fixhead">{num}'
        f'<strong class="dx-fixtitle">{esc(f.title)}</strong>{cmd}{_copy_button()}</div>'
        f"{code_block(f.code, f.language)}</div>"
    )


def _details(summary: str, body: str, cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f"<details{c}{_st('details')}><summary>{summary}</summary>{body}</details>"


def _md_block(text: str) -> str:
    return f'<div class="dx-md"{_st("md")}>{markdown(text)}</div>'


def _explanation(e) -> str:
    parts = []
    what = e.sections.get("What happened", "")
    if e.summary:  # its first paragraph is already shown under the title
        what = "\n\n".join(what.split("\n\n")[1:]).strip()
    bodies = [(n, b) for n, b in (("What happened", what), ("Why", e.sections.get("Why", ""))) if b]
    if bodies:
        label = " and ".join(n.lower() if i else n for i, (n, _) in enumerate(bodies))
        body = "".join((f"<h4>{esc(n)}</h4>" if len(bodies) > 1 else "") + markdown(b) for n, b in bodies)
        parts.append(_details(esc(label), f'<div class="dx-md"{_st("md")}>{body}</div>'))
    for name in ("How to check", "Fix safety", "References"):
        if e.sections.get(name):
            parts.append(_details(esc(name), _md_block(e.sections[name])))
    return "".join(parts)


def _cause(e, accent: str, detail: bool) -> str:
    badge = (
        f'<span class="dx-badge dx-ok"{_st("ok")}>confident</span>'
        if e.confident
        else f'<span class="dx-badge dx-maybe"{_st("maybe")}>possible</span>'
    )
    pct = max(0, min(100, int(round(e.score * 100))))
    tone = "#1f9d55" if e.confident else _AMBER
    also = "".join(f" + <code>{esc(a.signature)}</code>" for a in e.also)
    out = [
        f'<div class="dx-cause{"" if e.strong else " dx-weak"}"{_st("cause")}>',
        f'<div class="dx-row"><strong class="dx-rank">{e.rank}.</strong> '
        f'<strong class="dx-title"{_st("title")}>{esc(e.title)}</strong> {badge}</div>',
        f'<div class="dx-meta"{_st("meta")}>'
        f'<span class="dx-bar" style="display:none"><span style="width:{pct}%"></span></span>'
        f'<span class="dx-tbar"{_st("tbar", tone)}>{bar(e.score, 10, ascii=False)}</span> {e.score:.2f}'
        f" · <code>{esc(e.cause)}</code> · signature <code>{esc(e.signature)}</code>{also}</div>",
    ]
    if e.summary and detail:
        out.append(_md_block(e.summary).replace('class="dx-md"', 'class="dx-md dx-sum"', 1))
    out.append(_evidence(e))
    shown = [f for f in e.fixes if f.n] if e.strong else []
    if shown:
        out.append(_fix(shown[0]))
        if len(shown) > 1:
            n = len(shown) - 1
            out.append(_details(f"{n} more fix{'es' if n > 1 else ''}", "".join(_fix(f) for f in shown[1:])))
    if detail:
        out.append(_explanation(e))
    out.append("</div>")
    return "".join(out)


def _log(log_text: str, entries) -> str:
    lines = [_ANSI.sub("", ln) for ln in log_text.splitlines() if ln.strip()]
    if not lines:
        return ""
    quoted = {ev.text.strip() for e in entries for ev in e.match.evidence if ev.kind in ("regex", "phrase")}
    shown = lines[-60:]
    body = "\n".join(f"<mark>{esc(ln)}</mark>" if any(q and q in ln for q in quoted) else esc(ln) for ln in shown)
    more = f", last {len(shown)} shown" if len(shown) < len(lines) else ""
    return _details(
        f"native stderr captured before the error ({len(lines)} line{'s' if len(lines) != 1 else ''}"
        f"{more}, part of this diagnosis)",
        f"<pre{_st('pre')}>{body}</pre>",
        "dx-log",
    )


def render_report(
    r: Report, *, log_text: str = "", total_ms: Optional[float] = None, magics: bool = True, notes: Sequence[str] = ()
) -> str:
    sure = r.confident
    accent = _BLUE if sure else _AMBER
    ms = r.elapsed_ms if total_ms is None else total_ms
    lead = "what most likely caused this error" if sure else "no known cause fits this error with confidence"
    out = [
        f'<div class="dnnfix{"" if sure else " dx-unsure"}"{_st("box", accent)}><style>{_CSS}</style>',
        f'<div class="dx-head"{_st("first")}><strong class="dx-brand"{_st("brand", accent)}>dnnfix</strong> '
        f'<strong class="dx-lead">{esc(lead)}</strong> <span class="dx-ms"{_st("ms")}>· {ms:.0f} ms</span></div>',
    ]
    for note in list(r.notes) + ([r.kb_warning] if r.kb_warning else []) + list(notes):
        out.append(f'<div class="dx-family"{_st("note")}>note: {esc(note)}</div>')
    if sure:
        out += [_cause(e, accent, True) for e in r.strong]
        if r.weak:
            n = len(r.weak)
            out.append(
                _details(
                    f"{n} less likely cause{'s' if n > 1 else ''}", "".join(_cause(e, accent, False) for e in r.weak)
                )
            )
    else:
        out.append(f'<div class="dx-family"{_st("family")}>{esc(r.family)}</div>')
        if r.entries:
            out.append(
                _details(
                    f"weaker candidates ({len(r.entries)}, not confident)",
                    "".join(_cause(e, accent, False) for e in r.entries),
                )
            )
    if r.hidden:
        n = len(r.hidden)
        out.append(
            f'<div class="dx-family"{_st("note")}><small>{n} harmless log entr{"ies" if n > 1 else "y"} '
            f"not shown: {esc(', '.join(h.cause for h in r.hidden[:3]))}</small></div>"
        )
    out.append(_log(log_text, r.entries))
    foot = []
    if magics:
        if r.fixes:
            foot.append("<code>%dnnfix fix N</code> puts fix N into the next cell (never runs it)")
        foot.append("<code>%dnnfix env</code> machine facts")
        foot.append("<code>%dnnfix off</code> hides this panel")
    if not sure and r.fingerprint:
        foot.append(
            f"fingerprint <code>{esc(r.fingerprint)}</code> · teach dnnfix: "
            "<code>dnnfix kb new - --cause CAUSE-ID</code>"
        )
    if foot:
        out.append(f'<div class="dx-foot"{_st("foot")}>{" · ".join(foot)}</div>')
    out.append("</div>")
    return "".join(x for x in out if x)


def render(
    d,
    kb,
    *,
    top: int = 3,
    log_text: str = "",
    total_ms: Optional[float] = None,
    magics: bool = True,
    notes: Sequence[str] = (),
    show_all: bool = False,
) -> str:
    """Diagnosis -> HTML (for callers that hold a Diagnosis): builds the Report, then `render_report()`."""
    from .report import build

    return render_report(
        build(d, kb, top=top, show_all=show_all), log_text=log_text, total_ms=total_ms, magics=magics, notes=notes
    )
