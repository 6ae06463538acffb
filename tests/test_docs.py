"""Every reference in the documentation points at something a reader can open: a file in this repository, or an
upstream file named together with its repository. Notes kept outside the repository are not cited."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted(REPO.glob("docs/*.md")) + [REPO / "README.md"]
REPO_ROOTS = ("inception/", "cpi/", "simulator/", "manifests/", "tests/", "docs/", "bench/", "scripts/", ".ci/")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
CODE = re.compile(r"`([^`\s]+)`")
# `owner/name` of a GitHub repository, e.g. `cloudfoundry/bosh-cli`: an upstream path may follow it (on that line or
# the next, as prose wraps).
UPSTREAM_REPO = re.compile(r"`[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+`")
# A reference into notes that are not part of the repository: a section sign after a .md name, or shared/.
OUTSIDE_NOTES = re.compile(r"[\w-]+\.md`?\s*§|shared/reference|\.\./shared")


def _problems(doc: Path, root: Path = REPO) -> list[str]:
    problems = []
    previous = ""
    for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{doc.relative_to(root)}:{number}"
        for target in LINK.findall(line):
            if not target.startswith(("http://", "https://", "mailto:")) and not (doc.parent / target).exists():
                problems.append(f"{where}: link to {target}, which does not exist")
        for token in CODE.findall(line):
            path = token.rstrip(".,:;").split(":")[0]
            if not path.startswith(REPO_ROOTS) or any(c in path for c in "*{}<>$"):
                continue
            names_upstream = UPSTREAM_REPO.search(previous + line[: line.find(f"`{token}`")])
            if not (root / path).exists() and not names_upstream:
                problems.append(f"{where}: `{token}` is not in the repository (name the upstream repository if it is theirs)")
        if OUTSIDE_NOTES.search(line):
            problems.append(f"{where}: cites notes outside the repository: {line.strip()[:100]}")
        previous = line
    return problems


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_every_reference_can_be_opened(doc: Path) -> None:
    assert not _problems(doc)


def test_the_check_catches_what_it_is_for(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "cpi").mkdir()
    (tmp_path / "cpi" / "main.py").write_text("")
    (tmp_path / "docs" / "guide.md").write_text("")
    doc = tmp_path / "docs" / "probe.md"
    doc.write_text("see [x](nothing-here.md), `cpi/no_such_module.py`, `cloudstack-cpis.md` §5\n"
                   "fine: `cpi/main.py`, [guide](guide.md), `cppforlife/go-patch`, `docs/examples.md`\n")
    found = _problems(doc, tmp_path)
    assert [p.split(": ", 1)[0] for p in found] == ["docs/probe.md:1"] * 3
