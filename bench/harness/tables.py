"""Result tables: a `Section` of rows with its PASS/FAIL targets, printed with rich or rendered as Markdown."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field

from bench.harness.peers import RESIDUE_MARKERS


@dataclass
class Section:
    """One printed table: a title, column names, rows, and target lines."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.0f} MiB"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def markdown_cell(cell: str) -> str:
    """Markup residue (`{{`, `&lt;` …) shown as code so Markdown does not render it."""
    if any(marker in cell for marker in RESIDUE_MARKERS):
        return f"`{cell}`".replace("|", "\\|")
    return cell.replace("|", "\\|")


def render_markdown(sections: list[Section], facts: list[str], command: str) -> str:
    lines = ["# memtrain benchmark results", "", f"Command: `{command}`", "", "## Machine", "", "```", *facts, "```", ""]
    for section in sections:
        lines += [f"## {section.title}", "", "| " + " | ".join(section.columns) + " |", "|" + "---|" * len(section.columns)]
        lines += ["| " + " | ".join(markdown_cell(cell) for cell in row) + " |" for row in section.rows]
        lines.append("")
        lines += [f"- **target**: {target}" for target in section.targets]
        lines += [f"- note: {note}" for note in section.notes]
        lines.append("")
    return "\n".join(lines)


def print_section(section: Section) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(120, shutil.get_terminal_size().columns))
    table = Table(title=section.title, title_justify="left")
    for column in section.columns:
        table.add_column(column)
    for row in section.rows:
        table.add_row(*row)
    console.print(table)
    for target in section.targets:
        color = "green" if target.endswith("PASS") or "PASS;" in target else "red"
        console.print(f"  [{color}]target[/]: {target}")
    for note in section.notes:
        console.print(f"  note: {note}")
