"""Shared test set-up: every test runs with an empty user KB, its own KB cache folder (holding the built-in KB's
compiled cache, unless marked cold_kb_cache) and no colour.

Also collects every case of the knowledge base as its own test item (from tests/kb_cases.yaml): a failure names
the case file and the case, e.g. `tests/kb_cases.yaml::kb/cases/tf-gpu.cases.yaml::loaded-older-beats-handle-failure`.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def _kb_cache_seed(tmp_path_factory):
    """The built-in KB compiled into its cache file once per session. Each test's own cache folder starts with a
    hard link to it, so a process a test starts (the CLI, a hooked script) reads it as an installed dnnfix does
    after its first run, instead of compiling the KB from YAML again (over a second on these machines). Tests of
    the cold path (`@pytest.mark.cold_kb_cache`) get an empty folder. A test that wrote into the linked file in
    place would change every later test's cache: the session ends with an error if the file changed."""
    import hashlib

    from dnnfix.knowledge import cache as kbcache
    from dnnfix.knowledge.load import load_kb

    d = tmp_path_factory.mktemp("kb-cache-seed")
    os.chmod(d, 0o700)
    saved = os.environ.get("DNNFIX_CACHE_DIR")
    os.environ["DNNFIX_CACHE_DIR"] = str(d)
    try:
        with _only_builtin_kb(d / "no-user-kb"):
            kb = load_kb()
            path = kbcache.write(kb, kb._key)
    finally:
        if saved is None:
            os.environ.pop("DNNFIX_CACHE_DIR", None)
        else:
            os.environ["DNNFIX_CACHE_DIR"] = saved
    if path is None:  # no safe folder: every test starts cold, as before
        yield None
        return
    digest = hashlib.sha1(path.read_bytes()).hexdigest()
    yield path
    assert hashlib.sha1(path.read_bytes()).hexdigest() == digest, f"a test wrote into the shared KB cache {path}"


@pytest.fixture(autouse=True)
def _isolated_dnnfix(tmp_path, monkeypatch, request):
    monkeypatch.setenv("DNNFIX_USER_KB", str(tmp_path / "no-user-kb"))
    monkeypatch.setenv("DNNFIX_CACHE_DIR", str(tmp_path / "cache"))
    if request.node.get_closest_marker("cold_kb_cache") is None:
        seed = request.getfixturevalue("_kb_cache_seed")
        if seed is not None:
            (tmp_path / "cache").mkdir(mode=0o700)
            try:
                os.link(seed, tmp_path / "cache" / seed.name)
            except OSError:  # another file system: the test starts cold
                pass
    monkeypatch.delenv("DNNFIX_KB_PATH", raising=False)
    monkeypatch.delenv("DNNFIX_DISABLE", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    # the hook's 2 s limit is about a user's session; a test that starts with a cold KB cache on a loaded 2-core
    # machine may need longer to compile the KB, and tests of the limit itself set their own
    monkeypatch.setenv("DNNFIX_TIMEOUT", "30")
    yield


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KB_CASES = "kb_cases.yaml"


@contextmanager
def _only_builtin_kb(no_user_kb: Path):
    saved = {k: os.environ.get(k) for k in ("DNNFIX_USER_KB", "DNNFIX_KB_PATH")}
    os.environ["DNNFIX_USER_KB"] = str(no_user_kb)
    os.environ.pop("DNNFIX_KB_PATH", None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _checked_kb(config):
    """`dnnfix kb check` of the built-in KB, once per session (every case item shares its compiled KB)."""
    key = "_dnnfix_kb_check"
    res = getattr(config, key, None)
    if res is None:
        from dnnfix.knowledge.check import check

        import tempfile

        with _only_builtin_kb(Path(tempfile.gettempdir()) / "dnnfix-kbcases-no-user-kb"):
            res = check()
        setattr(config, key, res)
    return res


def pytest_collect_file(file_path, parent):
    if file_path.name == KB_CASES and file_path.parent.name == "tests":
        return KBCases.from_parent(parent, path=file_path)
    return None


class KBCases(pytest.File):
    """Every case of the knowledge base, grouped by case file."""

    def collect(self):
        res = _checked_kb(self.config)
        yield KBCheckItem.from_parent(self, name="kb-check", res=res)
        by_file = {}
        for case in list(res.cases) + list(res.cause_cases) + list(res.negatives):
            by_file.setdefault(case.path, []).append(case)
        for path in sorted(by_file):
            rel = os.path.relpath(path, REPO)
            yield KBCaseFile.from_parent(self, name=rel, cases=by_file[path], res=res)


class KBCaseFile(pytest.Collector):
    def __init__(self, *, cases, res, **kw):
        super().__init__(**kw)
        self.cases, self.res = cases, res

    def collect(self):
        for case in self.cases:
            item = KBCaseItem.from_parent(self, name=case.name, case=case, res=self.res)
            if case.expect == "todo":
                reason = case.todo or " ".join(case.note.split()) or "a known gap (expect: todo)"
                item.add_marker(
                    pytest.mark.xfail(strict=True, reason=f"todo: {reason}; when it passes, make it a real case")
                )
            yield item


class KBCaseFailed(AssertionError):
    pass


class KBCheckItem(pytest.Item):
    """`dnnfix kb check` finds no error in the shipped knowledge base."""

    def __init__(self, *, res, **kw):
        super().__init__(**kw)
        self.res = res

    def runtest(self):
        errs = [d.format() for d in self.res.errors]
        if errs:
            raise KBCaseFailed("dnnfix kb check:\n" + "\n".join(errs))

    def repr_failure(self, excinfo):
        return str(excinfo.value) if excinfo.errisinstance(KBCaseFailed) else super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, "kb check"


class KBCaseItem(pytest.Item):
    """One case: run through the matcher with the session's compiled KB, judged as `dnnfix kb test` judges it."""

    def __init__(self, *, case, res, **kw):
        super().__init__(**kw)
        self.case, self.res = case, res

    def runtest(self):
        from dnnfix.knowledge.runner import run_case

        sigs = getattr(self.res, "_sigs", None)
        if sigs is None:
            sigs = self.res._sigs = {s.id: s for s in self.res.kb.signatures}
        out = run_case(self.case, self.res.kb, sigs, self.res.allow)
        if not out.ok:
            c = self.case
            what = c.signature or c.cause or c.kind
            raise KBCaseFailed(f"{os.path.relpath(c.path, REPO)}:{c.line}: [{c.expect}] {what}#{c.name}: {out.message}")

    def repr_failure(self, excinfo):
        return str(excinfo.value) if excinfo.errisinstance(KBCaseFailed) else super().repr_failure(excinfo)

    def reportinfo(self):
        return Path(self.case.path), self.case.line - 1, f"{Path(self.case.path).name}#{self.case.name}"


def _part_of(nodeid: str, n: int) -> int:
    """Which of n parts a test belongs to (1..n): by its file, and for the knowledge base's cases by their case file,
    so that a module's fixtures are set up in one part only. Stable across runs and machines."""
    import zlib

    bits = nodeid.split("::")
    key = "::".join(bits[:2]) if bits[0].endswith(KB_CASES) else bits[0]
    return zlib.crc32(key.encode("utf-8")) % n + 1


def pytest_configure(config):
    # read once and taken out of the environment: a pytest that a test starts in a subprocess (the KB cases'
    # collection test, the plugin tests) must collect everything it asks for, not this run's part
    config._dnnfix_test_part = os.environ.pop("DNNFIX_TEST_PART", "").strip()


def pytest_collection_modifyitems(config, items):
    """DNNFIX_TEST_PART="k/n" (or "j,k/n") keeps only those parts of the collected tests: .ci/run spreads one
    Python's core suite over both cores that way. Unset: every test."""
    spec = getattr(config, "_dnnfix_test_part", "")
    if not spec:
        return
    try:
        which, n_text = spec.split("/")
        n = int(n_text)
        wanted = {int(w) for w in which.split(",")}
        if n < 1 or not wanted or not wanted <= set(range(1, n + 1)):
            raise ValueError(spec)
    except ValueError:
        raise pytest.UsageError(f'DNNFIX_TEST_PART must look like "1/2" or "1,3/4", not {spec!r}') from None
    keep, drop = [], []
    for item in items:
        (keep if _part_of(item.nodeid, n) in wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
