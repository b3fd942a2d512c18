"""Diagnosis -> the HTML panel shown under a traceback in Jupyter, JupyterLab, Colab and VS Code.

Self-contained: inline CSS scoped to `.dnnfix`, no external fonts, scripts or images, readable on light and dark
themes (colours are translucent or inherited). Explanations are the cause's Markdown sections rendered with
markdown-it-py (raw HTML in the knowledge base is escaped, not passed through); long parts sit in <details>.
Every code block has a copy button, and fixes carry the number `%dnnfix fix N` uses.
"""
from __future__ import annotations

import html
import re
from typing import Any, Dict, List, Optional, Sequence

from .api import Diagnosis
from .explain import fill

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
.dnnfix .dx-md h3{font-size:13px;margin:6px 0 2px}
.dnnfix .dx-md code{background:rgba(127,127,127,.12);border-radius:3px;padding:0 3px}
.dnnfix .dx-md pre code{background:none;padding:0}
.dnnfix .dx-family{margin:2px 0 6px}
.dnnfix .dx-sum{margin:2px 0 4px 26px;border-left:0;padding:0}
.dnnfix .dx-log pre{max-height:260px}
.dnnfix .dx-log mark{background:rgba(201,138,0,.3);color:inherit}
.dnnfix .dx-foot{margin-top:6px;padding-top:5px;border-top:1px solid rgba(127,127,127,.2);font-size:11px;opacity:.7}
.dnnfix .dx-foot code{background:rgba(127,127,127,.12);border-radius:3px;padding:0 3px}
.dnnfix a{color:#2f81f7}
"""

# Copy the <pre> that follows the button's header; fall back to selecting it where the clipboard API is refused.
_COPY_JS = ("var p=this.parentNode.nextElementSibling,b=this,t=p.innerText,"
            "ok=function(){b.textContent='copied';setTimeout(function(){b.textContent='copy'},1500)},"
            "sel=function(){var r=document.createRange();r.selectNodeContents(p);var s=getSelection();"
            "s.removeAllRanges();s.addRange(r);try{document.execCommand('copy');ok()}catch(e){}};"
            "if(navigator.clipboard){navigator.clipboard.writeText(t).then(ok,sel)}else{sel()}")

_EXPLAIN = (("What happened", "What happened"), ("Why", "Why"), ("How to check", "How to check"),
            ("Fix safety", "Fix safety"), ("References", "References"))
_URL = re.compile(r"(?<![<(\[\"'`=])\bhttps?://[^\s<>)\]`'\"]+")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_MD = None


def esc(s: Any) -> str:
    return html.escape(str(s), quote=True)


def _autolink(m: "re.Match[str]") -> str:
    url = m.group(0)
    core = url.rstrip(".,;:")
    return f"<{core}>{url[len(core):]}"


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
    btn = f'<div class="dx-fixhead"><button class="dx-copy" title="copy to the clipboard" onclick="{esc(_COPY_JS)}">copy</button></div>'
    return rendered.replace("<pre>", btn + "<pre>")


def code_block(code: str, language: str = "") -> str:
    cls = f' class="language-{esc(language)}"' if language else ""
    return f"<pre><code{cls}>{esc(code)}</code></pre>"


def _evidence(m) -> str:
    items = []
    seen = set()
    for e in m.evidence:
        key = (e.line, e.text, e.against)
        if key in seen:
            continue
        seen.add(key)
        mark = '<span class="dx-minus">−</span>' if e.against else '<span class="dx-plus">+</span>'
        where = f'<span class="dx-ln">line {e.line}</span> ' if e.line else ""
        text = e.text if len(e.text) <= 400 else e.text[:397] + "…"
        body = f"<code>{esc(text)}</code>" if e.kind in ("regex", "phrase", "frames") else esc(text)
        if e.against:
            body = "against: " + body
        items.append(f"<li title=\"{esc(e.format())}\">{mark} {where}{body}</li>")
        if len(items) >= 6:
            break
    return f'<ul class="dx-ev">{"".join(items)}</ul>' if items else ""


def _fix(f: Dict[str, Any]) -> str:
    return (f'<div class="dx-fix"><div class="dx-fixhead"><span class="dx-n">fix {f["n"]}</span>'
            f'<span class="dx-fixtitle">{esc(f["title"])}</span>'
            f'<span class="dx-cmd">%dnnfix fix {f["n"]}</span>'
            f'<button class="dx-copy" title="copy to the clipboard" onclick="{esc(_COPY_JS)}">copy</button></div>'
            f'{code_block(f["code"], f.get("language", ""))}</div>')


def _explanation(m, kb, summarised: bool) -> str:
    ex = kb.explanations.get(m.cause) if kb is not None else None
    if ex is None:
        return ""
    parts = []
    what = (ex.sections.get("What happened") or "").strip()
    if summarised:  # its first paragraph is already shown under the title
        what = "\n\n".join(what.split("\n\n")[1:]).strip()
    bodies = [(name, body) for name, body in (("What happened", what), ("Why", ex.sections.get("Why") or "")) if body]
    if bodies:
        label = " and ".join(n.lower() if i else n for i, (n, _) in enumerate(bodies))
        body = "".join((f"<h3>{esc(n)}</h3>" if len(bodies) > 1 else "") + markdown(fill(b, m.facts)) for n, b in bodies)
        parts.append(f'<details><summary>{esc(label)}</summary><div class="dx-md">{body}</div></details>')
    for name in ("How to check", "Fix safety", "References"):
        body = ex.sections.get(name)
        if body:
            parts.append(f'<details><summary>{esc(name)}</summary><div class="dx-md">{markdown(fill(body, m.facts))}</div></details>')
    return "".join(parts)


def _summary(m, kb) -> str:
    """The first paragraph of 'What happened', shown without a click."""
    ex = kb.explanations.get(m.cause) if kb is not None else None
    text = (ex.sections.get("What happened") or "") if ex is not None else ""
    para = text.strip().split("\n\n")[0].strip()
    if not para or para.startswith(("```", "- ", "* ", "|")):
        return ""
    return f'<div class="dx-sum dx-md">{markdown(fill(para, m.facts))}</div>'


def _cause(rank: int, m, kb, fixes: Sequence[Dict[str, Any]], weak: bool, also: Sequence[str] = ()) -> str:
    badge = '<span class="dx-badge dx-ok">confident</span>' if m.confident else '<span class="dx-badge dx-maybe">possible</span>'
    pct = max(0, min(100, int(round(m.score * 100))))
    summary = _summary(m, kb) if not weak else ""
    out = [f'<div class="dx-cause{" dx-weak" if weak else ""}">',
           f'<div class="dx-row"><span class="dx-rank">{rank}</span><span class="dx-title">{esc(m.title)}</span>{badge}</div>',
           f'<div class="dx-meta"><span class="dx-bar"><span style="width:{pct}%"></span></span>{m.score:.2f}'
           f' · <code>{esc(m.cause)}</code> · signature <code>{esc(m.signature)}</code>'
           + "".join(f" + <code>{esc(a)}</code>" for a in also) + '</div>',
           summary,
           _evidence(m)]
    mine = [f for f in fixes if f["cause"] == m.cause]
    if mine:
        out.append(_fix(mine[0]))
        if len(mine) > 1:
            more = "".join(_fix(f) for f in mine[1:])
            out.append(f'<details><summary>{len(mine) - 1} more fix{"es" if len(mine) > 2 else ""}</summary>{more}</details>')
    out.append(_explanation(m, kb, bool(summary)))
    out.append("</div>")
    return "".join(out)


def _log(log_text: str, matches) -> str:
    lines = [_ANSI.sub("", ln) for ln in log_text.splitlines() if ln.strip()]
    if not lines:
        return ""
    quoted = {e.text.strip() for m in matches for e in m.evidence if e.kind in ("regex", "phrase")}
    shown = lines[-60:]
    body = "\n".join(f"<mark>{esc(ln)}</mark>" if any(q and q in ln for q in quoted) else esc(ln) for ln in shown)
    more = f", last {len(shown)} shown" if len(shown) < len(lines) else ""
    return (f'<details class="dx-log"><summary>native stderr captured before the error ({len(lines)} line'
            f'{"s" if len(lines) != 1 else ""}{more}, part of this diagnosis)</summary>'
            f"<pre>{body}</pre></details>")


def render(d: Diagnosis, kb, *, top: int = 3, fixes: Optional[Sequence[Dict[str, Any]]] = None,
           log_text: str = "", total_ms: Optional[float] = None, magics: bool = True,
           notes: Sequence[str] = ()) -> str:
    if fixes is None:
        from .panel import numbered_fixes

        fixes = numbered_fixes(d, kb, top)
    sure = bool(d.confident)
    shown = d.matches[:top]
    # several signatures may point at one cause: show the cause once, at its best rank, naming the others
    also: Dict[str, List[str]] = {}
    ranked = []
    for i, m in enumerate(shown, 1):
        if m.cause in also:
            also[m.cause].append(m.signature)
        else:
            also[m.cause] = []
            ranked.append((i, m))
    ms = d.elapsed_ms if total_ms is None else total_ms
    lead = "what most likely caused this error" if sure else "no known cause fits this error with confidence"
    out = [f'<div class="dnnfix{"" if sure else " dx-unsure"}"><style>{_CSS}</style>',
           f'<div class="dx-head"><span class="dx-brand">dnnfix</span><span class="dx-lead">{esc(lead)}</span>'
           f'<span class="dx-ms">{ms:.0f} ms</span></div>']
    for note in list(d.notes) + list(notes):
        out.append(f'<div class="dx-family">note: {esc(note)}</div>')
    if sure:
        strong = [(i, m) for i, m in ranked if m.confident or i == 1]
        weak = [(i, m) for i, m in ranked if not (m.confident or i == 1)]
        out += [_cause(n, m, kb, fixes, False, also[m.cause]) for n, (i, m) in enumerate(strong, 1)]
        if weak:
            body = "".join(_cause(n, m, kb, fixes, True, also[m.cause]) for n, (i, m) in enumerate(weak, len(strong) + 1))
            out.append(f'<details><summary>{len(weak)} less likely cause{"s" if len(weak) > 1 else ""}</summary>{body}</details>')
    else:
        out.append(f'<div class="dx-family">{esc(d.family)}</div>')
        if ranked:
            body = "".join(_cause(n, m, kb, fixes, True, also[m.cause]) for n, (i, m) in enumerate(ranked, 1))
            out.append(f'<details><summary>weaker candidates ({len(ranked)}, not confident)</summary>{body}</details>')
    out.append(_log(log_text, shown))
    foot = []
    if magics:
        if fixes:
            foot.append("<code>%dnnfix fix N</code> puts fix N into the next cell (never runs it)")
        foot.append("<code>%dnnfix env</code> machine facts")
        foot.append("<code>%dnnfix off</code> hides this panel")
    if not sure and d.fingerprint:
        foot.append(f"fingerprint <code>{esc(d.fingerprint)}</code> · teach dnnfix: <code>dnnfix kb new - --cause CAUSE-ID</code>")
    if foot:
        out.append(f'<div class="dx-foot">{" · ".join(foot)}</div>')
    out.append("</div>")
    return "".join(x for x in out if x)
