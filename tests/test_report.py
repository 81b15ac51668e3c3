"""Report rendering: escaping of user text, flags, and self-containment."""

from __future__ import annotations

import json
import re

from .conftest import write_table

HOSTILE = "<script>alert(1)</script>"


def test_user_text_is_escaped_in_html_and_markdown(tmp_path, cli):
    data = write_table(
        tmp_path,
        [
            f'"{HOSTILE}",12,10,40,42,false,"{HOSTILE} | source"',
            "B,12,6,40,41,true,<img src=x onerror=alert(1)>",
        ],
    )
    spec = tmp_path / "s.toml"
    spec.write_text(f'title = "{HOSTILE}"\n')
    code, _, err = cli(
        "run",
        spec,
        "--quick",
        "--data",
        data,
        "--treatment",
        HOSTILE,
        "--control",
        "B",
        "--out",
        tmp_path / "r",
    )
    assert code == 0, err
    html = (tmp_path / "r" / "report.html").read_text()
    md = (tmp_path / "r" / "report.md").read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html
    # Markdown: every "<" from user text is backslash-escaped (a literal "<" in CommonMark)
    assert not re.search(r"(?<!\\)<(script|img)", md) and r"\<script\>" in md
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["run"]["title"] == HOSTILE


def test_html_is_self_contained_and_flags_placeholders(tmp_path, cli):
    assert cli("run", "--quick", "--out", tmp_path / "r")[0] == 0
    html = (tmp_path / "r" / "report.html").read_text()
    # nothing is fetched: no external resource (source addresses may appear as provenance text)
    remote = r"""\s*=\s*["']?(https?:)?//"""
    assert not re.search(rf"src{remote}|<link[^>]*href{remote}|url\(\s*['\"]?(https?:)?//", html)
    assert "@import" not in html
    assert "data:image/svg+xml;base64," in html
    assert html.count("UNVERIFIED placeholder") >= 4
    assert "QUICK RUN" in html
