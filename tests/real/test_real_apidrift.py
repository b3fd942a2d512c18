"""Real API-drift failures: call removed APIs of the installed torch and pandas, diagnose what Python printed.

torch 2.x has no torch._six and keeps stubs that raise for the removed linear-algebra functions; pandas 2.x has
no DataFrame.append / iteritems and no `error_bad_lines` argument. The pasted text alone must name the row of
kb/compat/api-drift.yaml; with the installed versions as facts it must also say which side is out of date.
"""

import re

import pytest

from dnnfix.testing import assert_matches, assert_silent

from ._harness import CASE_PRELUDE, split_cases

pytestmark = pytest.mark.framework


def test_real_torch_removed_apis(run_python):
    """`from torch._six import inf` and torch.symeig under the installed torch."""
    out = run_python(
        CASE_PRELUDE
        + """
import torch
print("torch", torch.__version__)
def six():
    from torch._six import inf
case("six", six)
case("symeig", lambda: torch.symeig(torch.eye(2)))
""",
        require=("torch",),
    )
    version = re.search(r"^torch (\S+)", out, re.M).group(1)
    s = split_cases(out)
    assert "No module named 'torch._six'" in s["six"]
    m = assert_matches(s["six"], "py.package.api-mismatch")
    assert m.facts["drift.package"] == "torch" and m.facts["drift.removed_in"] == "2.0.0"
    assert m.facts["drift.last_with"] == "1.13.1"
    m = assert_matches(s["six"], "py.package.api-mismatch", env={"packages": {"torch": version}})
    assert m.facts["drift.installed"] == version and m.facts["drift.side"] == "installed is too new for the code"
    assert m.facts["drift.pin"] == "torch<2.0.0"
    assert "deprecated since version 1.9 and is now removed" in s["symeig"]
    assert_matches(s["symeig"], "py.package.api-mismatch")


def test_real_pandas_removed_apis(run_python):
    """DataFrame.append / iteritems and read_csv(error_bad_lines=...) under the installed pandas (2.x or newer)."""
    out = run_python(
        CASE_PRELUDE
        + """
import io
import pandas as pd
print("pandas", pd.__version__)
df = pd.DataFrame({"a": [1, 2]})
case("append", lambda: df.append({"a": 3}, ignore_index=True))
case("iteritems", lambda: list(df.iteritems()))
case("bad_lines", lambda: pd.read_csv(io.StringIO("a,b\\n1,2\\n"), error_bad_lines=False))
case("own_typo", lambda: df.colum_a)
""",
        require=("pandas",),
    )
    version = re.search(r"^pandas (\S+)", out, re.M).group(1)
    s = split_cases(out)
    for name in ("append", "iteritems"):
        assert "object has no attribute" in s[name], s[name]
        m = assert_matches(s[name], "py.package.api-mismatch")
        assert m.facts["drift.package"] == "pandas" and m.facts["drift.removed_in"] == "2.0.0"
    m = assert_matches(s["append"], "py.package.api-mismatch", env={"packages": {"pandas": version}})
    assert m.facts["drift.installed"] == version and "too new" in m.facts["drift.side"]
    assert m.facts["drift.replacement"] == "pandas.concat"
    assert "unexpected keyword argument 'error_bad_lines'" in s["bad_lines"]
    m = assert_matches(s["bad_lines"], "py.package.api-mismatch")
    assert m.facts["drift.replacement"] == "on_bad_lines='error'"
    # the user's own typo on a DataFrame is not API drift
    assert "has no attribute 'colum_a'" in s["own_typo"]
    assert_silent(s["own_typo"])
