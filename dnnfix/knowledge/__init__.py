"""The knowledge-base subsystem: everything that reads, compiles, checks and tests the YAML/Markdown in `kb/`.

The data lives in `kb/` (`dnnfix/_kb` in a wheel); this package is the code that turns it into a
`KnowledgeBase` the matcher runs, and the tools contributors use on it.

Loading (what a diagnosis needs):
    load.py       finds the KB folders (built-in, `--kb`, DNNFIX_KB_PATH, the user's), loads and merges them,
                  builds the prefilter index; `load_kb()` is the entry point
    cache.py      the compiled KB on disk: plain data in marshal's format, never a pickle, never trusted blindly
    yamlmarks.py  bounded YAML that remembers line:column of every value (for located diagnostics)
    signature.py  signature files -> compiled signatures (clauses, strength levels, prefilter words)
    reparse.py    the one adapter for CPython's regex parser (signature.py and backtrack.py read patterns with it)
    backtrack.py  static check for super-linear backtracking of the patterns that must run on Python's `re`
    explain.py    cause explanations (one Markdown file per cause) and filling their placeholders
    compat.py     compatibility tables (kb/compat/*.yaml) -> the expected.* facts of a machine
    drift.py      the API-drift table: which release removed or renamed a missing name

Contributing (`dnnfix kb ...`):
    check.py      `kb check`: every problem in every KB file, as path:line:col diagnostics
    diagcodes.py  the registry of those diagnostic codes (DNXnnn); `python -m dnnfix.knowledge.diagcodes`
    runner.py     `kb test`: signature cases, cause-level cases and the negative corpus
    scaffold.py   `kb new`: a signature draft and its cases from a pasted failure

Importing this package imports nothing: `import dnnfix; dnnfix.install()` must stay nearly free, so each
module is imported where it is used.
"""
