"""The "Setting up your council" guide: every command it quotes, run in order on its sample file
on an empty migrated database, prints exactly the lines the guide says."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from sqlalchemy import func, select

from portal.common.models import Address, Boundary
from portal.extensions import db

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "operations.md"


def guide_steps() -> list[tuple[list[str], list[str]]]:
    """(command arguments after `flask --app portal`, expected output lines) in guide order."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## Setting up your council", 1)[1].split("\n## ", 1)[0]
    steps: list[tuple[list[str], list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, re.DOTALL):
        for line in (raw.strip() for raw in block.splitlines()):
            if line.startswith("$ "):
                words = shlex.split(line[2:])
                assert words[:3] == ["flask", "--app", "portal"], line
                steps.append((words[3:], []))
            elif line:
                steps[-1][1].append(line)
    return steps


def test_the_guide_quotes_every_import_with_a_sample_file():
    commands = [" ".join(args[:2]) for args, _ in guide_steps()]
    for command in [
        "services import-lgsl",
        "boundaries import",
        "gazetteer import",
        "bills import",
        "users create",
    ]:
        assert command in commands
    for args, expected in guide_steps():
        samples = [a for a in args if a.startswith("docs/samples/")]
        assert all((ROOT / s).is_file() for s in samples)
        assert expected, args


def test_every_guide_command_prints_what_the_guide_says(app):
    runner = app.test_cli_runner()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Address)) == 0
    for args, expected in guide_steps():
        args = [str(ROOT / a) if a.startswith("docs/samples/") else a for a in args]
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
        assert result.stdout.splitlines() == expected, args
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Boundary)) == 7
        wards = db.session.scalars(select(Address.ward).order_by(Address.uprn)).all()
        assert wards == ["Northgate", "Abbey", "Hillside", "Millbrook"]
