"""Every example in docs/PYTHON.md runs, in order, against moto's HTTP server seeded with the demo
lake; a line ending in `# -> value` must give that value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lakegui.core import demo
from tests.integration.test_cli_transfers import client

DOC = Path(__file__).resolve().parents[2] / "docs" / "PYTHON.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
CHECK = re.compile(r"^(?P<expr>\S.*?)\s+# -> (?P<want>.+)$")


def blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def checked(code: str) -> str:
    out = []
    for line in code.splitlines():
        m = CHECK.match(line)
        out.append(f"assert ({m['expr']}) == ({m['want']}), ({m['expr']!r}, {m['expr']})" if m else line)
    return "\n".join(out)


def test_every_python_example_runs(moto_endpoint, capsys):
    demo.seed(client(moto_endpoint), demo.DEMO_BUCKET)
    examples = blocks()
    assert len(examples) >= 8 and sum(b.count("# -> ") for b in examples) >= 19
    namespace: dict = {}
    for code in examples:
        code = checked(code.replace("http://127.0.0.1:9000", moto_endpoint))
        exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102  the docs are ours, run as a reader would
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed] == ["data/ticks/daily/AAPL/2023/ticks.parquet",
                                                      "data/ticks/daily/AAPL/2024/ticks.parquet"]
    assert namespace["lake"].last is not None


def test_lakegui_stays_light():
    import subprocess
    import sys

    code = "import sys, lakegui; lakegui.__version__; print('pyarrow' in sys.modules, 'boto3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    code = "from lakegui import Lake; print(Lake.__module__)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() \
        == "lakegui.lake"


def test_a_read_that_matches_nothing_keeps_its_columns(moto_endpoint):
    from lakegui import Lake
    from lakegui.lake import LakeReadWarning

    demo.seed(client(moto_endpoint), demo.DEMO_BUCKET)
    lake = Lake.connect(bucket=demo.DEMO_BUCKET, endpoint_url=moto_endpoint)
    with pytest.warns(LakeReadWarning, match="no file matches"):  # as `lakegui-cli query` says it
        df = lake.read("daily-ticks", symbol="ZZZZ", columns=["date", "close"])
    assert df.empty and df.columns.tolist() == ["date", "close", "symbol", "year"]
    assert lake.last.files == 0
    assert lake.files("daily-ticks", symbol="ZZZZ") == [] and not lake.exists("daily-ticks", symbol="ZZZZ")
