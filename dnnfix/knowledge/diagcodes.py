"""The registry of knowledge-base diagnostic codes (DNXnnn) that `dnnfix kb check` reports.

One source of truth: the checker's codes, CONTRIBUTING.md's table (`python -m dnnfix.knowledge.diagcodes` prints it) and
tests/test_diagcodes.py (which fails when a code is used but not registered, registered but never used, or the
table in CONTRIBUTING.md differs from the one generated here).
"""

from __future__ import annotations

from typing import Dict, Tuple

# code -> (area, what it means)
CODES: Dict[str, Tuple[str, str]] = {
    "DNX001": (
        "files",
        "YAML syntax error, an alias (*name), a key given twice in one mapping (YAML would keep only the last), or a "
        "file too large for a knowledge-base file",
    ),
    "DNX002": ("files", "a file or table cannot be read (permissions, not UTF-8)"),
    "DNX101": ("signature", "a signature file is not a mapping"),
    "DNX102": ("signature", "unknown top-level key (a typo: the hint names the closest key)"),
    "DNX103": ("signature", "a required key (id, cause, title, status, match) is missing"),
    "DNX104": ("signature", "the id is not kebab-case"),
    "DNX105": ("signature", "the cause is not in any causes.yaml"),
    "DNX106": ("signature", "status is not experimental, test, stable or deprecated"),
    "DNX107": ("signature", "no anchor clause (a regex or phrase; fact clauses for env_only signatures)"),
    "DNX108": ("signature", "frameworks is not a list"),
    "DNX109": ("signature", "falsepositives or references is not a list of strings"),
    "DNX110": ("clause", "match or against is not a list of clauses"),
    "DNX111": ("clause", "a clause is not a mapping"),
    "DNX112": ("clause", "a clause needs exactly one kind: regex, phrase, exception, frames or fact"),
    "DNX113": ("clause", "unknown key in a clause"),
    "DNX114": ("clause", "weight outside (0, 1]"),
    "DNX115": ("clause", "keys is not a list of words"),
    "DNX116": ("clause", "`in` is not any, message or log"),
    "DNX117": ("clause", "regex is empty or not a string"),
    "DNX118": ("clause", "invalid regular expression (also in frames.path and fact.matches)"),
    "DNX119": (
        "clause",
        "regex can backtrack super-linearly on Python's re (nested or ambiguous repeats; "
        "adjacent repeats over the same characters where the pattern needs re)",
    ),
    "DNX120": ("clause", "phrase shorter than 8 characters"),
    "DNX121": ("clause", "min_ratio outside 50..100"),
    "DNX122": ("clause", "exception is not a class name or a list of them"),
    "DNX123": ("clause", "frames is not {package: NAME} or {path: REGEX}"),
    "DNX124": ("fact", "a fact clause is not a mapping with a path and a test"),
    "DNX125": ("fact", "unknown fact test"),
    "DNX126": ("fact", "a fact condition needs exactly one test besides path"),
    "DNX127": ("fact", "invalid PEP 440 version specifier"),
    "DNX128": ("fact", "unknown severity"),
    "DNX129": ("signature", "fix_first (or a clause's fix) is not a non-empty string"),
    "DNX130": ("anchor", "weak anchor: the pattern can match without any fixed word"),
    "DNX131": ("anchor", "weak anchor: its fixed words are too short or too generic"),
    "DNX140": ("causes", "causes.yaml has no `causes:` mapping"),
    "DNX141": ("signature", "duplicate signature id"),
    "DNX142": ("causes", "a cause is not a mapping of category and summary (optionally origin: project)"),
    "DNX143": ("clause", "a `use:` clause with another key (a shared clause is used as it is defined)"),
    "DNX144": ("clause", "`use:` names no shared clause of `clauses.yaml` (the hint gives the closest names)"),
    "DNX145": (
        "clauses",
        "a bad entry of `clauses.yaml` (not a mapping, a name not kebab-case, a `use` or `fix` inside)",
    ),
    "DNX146": ("clauses", "a shared clause no signature uses (warning)"),
    "DNX150": ("explanation", "missing section(s)"),
    "DNX151": ("explanation", "sections out of order"),
    "DNX152": ("explanation", "unknown section (warning)"),
    "DNX153": ("explanation", "`## Fix` has no fix with a fenced code block"),
    "DNX154": ("explanation", "a fix has no fenced code block"),
    "DNX155": ("explanation", "a fix's code block names no language"),
    "DNX156": ("explanation", "no `# Title` line (warning)"),
    "DNX157": ("explanation", "explanation for an unknown cause"),
    "DNX158": (
        "explanation",
        "a {{placeholder}} is neither a capture of the cause's signatures nor a known fact alias (warning)",
    ),
    "DNX160": ("cases", "a cases file has no `cases:` list"),
    "DNX201": ("cases", "a cases file cannot be read as a mapping"),
    "DNX202": ("cases", "unknown key in a cases file"),
    "DNX203": ("cases", "cases for an unknown signature"),
    "DNX204": ("cases", "the file is named for another signature (warning)"),
    "DNX205": ("cases", "a case is not a mapping"),
    "DNX206": ("cases", "unknown key in a case"),
    "DNX207": ("cases", "duplicate case name"),
    "DNX208": ("cases", "expect is not match, no-match or todo"),
    "DNX209": ("cases", "a case has no text"),
    "DNX210": ("cases", "env is not a (partial) snapshot mapping"),
    "DNX211": ("cases", "a case has no name"),
    "DNX220": ("negatives", "a negatives file cannot be read as a mapping with `cases:`"),
    "DNX221": ("negatives", "a negative case needs a name and a non-empty text"),
    "DNX222": ("negatives", "unknown key in a negative case"),
    "DNX230": ("allow-list", "an allow entry needs signature, case and reason"),
    "DNX250": ("cause-cases", "a cause-level cases file (kb/cases) is not a mapping with a `cases:` list"),
    "DNX251": ("cause-cases", "a malformed expectation (top, confident, also, facts, a not_* list, silent or todo)"),
    "DNX252": ("cause-cases", "a cause-level case names an unknown cause"),
    "DNX253": ("cause-cases", "a cause-level case expects nothing, or contradicts itself"),
    "DNX240": ("coverage", "a signature has no cases file (warning)"),
    "DNX241": ("coverage", "a cause has signatures but no explanation (warning)"),
    "DNX242": ("coverage", "fix_first (or a clause's fix) names no fix of the cause's explanation"),
}


def table() -> str:
    """CONTRIBUTING.md's table of codes, generated."""
    rows = ["| code | area | meaning |", "|---|---|---|"]
    rows += [f"| {code} | {area} | {text} |" for code, (area, text) in sorted(CODES.items())]
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    print(table())
