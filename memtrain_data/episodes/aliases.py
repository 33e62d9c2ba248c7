"""What names an entity: the alias table Wikipedia itself provides (redirects and link anchors).

The pool stage writes `OUT/pool/aliases-*.parquet` (columns target, alias, kind, count; see
the pool docs). The main process of an episode build merges the shards once into
`OUT/.memtrain/aliases/` (`build_alias_index`): counts summed over shards, redirect chains
resolved (an anchor or redirect pointing at a redirect counts for the final page), and each
anchor's probability computed (its count for this target / its count for all targets). Two
sorted copies are written as single-batch Arrow IPC files, one by target and one by alias;
workers memory-map them and find rows by binary search (`AliasTable`), so no worker holds an
enwiki-size dictionary.

How an answer uses it (`AliasTable.resolve`, `AliasTable.forms`):

- The answer's surface names a page when it is a page title that links point to, a redirect
  (followed to its target), or (for a person's name part, see `answer_forms`) a capitalised
  anchor that is part of one page's name and points there with probability at least
  `RESOLVE_MIN_PROBABILITY`.
- The page's **name forms** score as correct and are masked: its title (without a
  parenthetical disambiguator), redirects to it, and anchors that are a run of the title's
  words ("Rand" for "Ayn Rand") with probability at least `ANCHOR_MIN_PROBABILITY`.
- Its **related forms** are masked but do not score as correct: other capitalised anchors with
  that probability, such as demonyms (`[[Canada|Canadian]]`), which would give the answer away
  but are not the entity's name.
- Lowercase anchors ("executive", "dogs") are never used: they are ordinary words.

A surface that names two pages is no answer (`names_several_pages`): "Hippolytus" links to both
"Hippolytus (son of Theseus)" and "Hippolytus of Rome", so the text alone does not say which
entity was masked, and a reader who names the other one is not wrong.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memtrain_data.atomic import atomic_path
from memtrain_data.errors import InputError, first_line

if TYPE_CHECKING:
    import pyarrow as pa

ALIAS_COLUMNS: tuple[str, ...] = ("target", "alias", "kind", "count")
# An anchor names a page when at least this share of its links point there.
ANCHOR_MIN_PROBABILITY = 0.5
# A capitalised anchor resolves an answer surface to a page at this share or above.
RESOLVE_MIN_PROBABILITY = 0.6
# A surface names a second page when at least this share of its links, and at least
# `AMBIGUOUS_MIN_LINKS` links, point to a page other than the one it names first: the commonest
# reading is then wrong one time in five or more (`names_several_pages`).
AMBIGUOUS_MIN_SHARE = 0.2
# Fewer links than this to a second page are taken for a linking slip, not a second meaning.
AMBIGUOUS_MIN_LINKS = 2
# Redirect chains longer than this are left at the last hop (Wikipedia bots fix double redirects).
MAX_REDIRECT_HOPS = 4
# A page with more distinct forms than this keeps the most linked ones (a few giant pages).
MAX_FORMS = 64
_PARENTHETICAL = re.compile(r"\s*\([^)]*\)\s*$")


def alias_files(output: Path) -> list[Path]:
    """The alias shards the pool stage wrote under `output/pool`, sorted by name."""
    return sorted((output / "pool").glob("aliases-*.parquet"))


def strip_the(text: str) -> str:
    """`text` without a leading "the"/"The" (kept when nothing would remain)."""
    words = text.split()
    if len(words) > 1 and words[0] in {"the", "The", "THE"}:
        return " ".join(words[1:])
    return " ".join(words)


def display_title(title: str) -> str:
    """A page title as a name: "Mercury (planet)" → "Mercury", "The Beatles" → "Beatles"."""
    return strip_the(_PARENTHETICAL.sub("", title))


def normalize_title(text: str) -> str:
    """The contract's title normalization: `_` → space, whitespace collapsed, first letter upper."""
    cleaned = " ".join(text.replace("_", " ").split())
    return cleaned[:1].upper() + cleaned[1:]


def is_word_run_of(form: str, name: str) -> bool:
    """Whether `form`'s words are a contiguous run of `name`'s words ("Rand" in "Ayn Rand")."""
    inner, outer = form.split(), name.split()
    return bool(inner) and any(outer[i : i + len(inner)] == inner for i in range(len(outer) - len(inner) + 1))


def _usable_form(form: str) -> bool:
    """A form worth matching: capitalised or numeric, two characters or more, no markup."""
    return len(form) >= 2 and (form[0].isupper() or form[0].isdigit()) and not any(ch in form for ch in "[]{}|<>")


@dataclass
class AliasIndexInfo:
    """What `build_alias_index` merged."""

    directory: Path
    rows: int
    redirects: int
    anchors: int
    shards: int


def _empty_table() -> pa.Table:
    import pyarrow as pa

    return pa.table(
        {"target": pa.array([], pa.string()), "alias": pa.array([], pa.string()),
         "kind": pa.array([], pa.string()), "count": pa.array([], pa.int64())}
    )  # fmt: skip


def _read_shards(files: list[Path]) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for path in files:
        try:
            table = pq.read_table(path, columns=list(ALIAS_COLUMNS))
        except (pa.ArrowInvalid, OSError, KeyError) as exc:
            raise InputError(f"cannot read the alias table {path}: {first_line(exc)}") from None
        tables.append(table.cast(_empty_table().schema))
    return pa.concat_tables(tables) if tables else _empty_table()


def _follow_redirects(table: pa.Table, redirects: pa.Table) -> pa.Table:
    """`table` with each target replaced by where its redirect chain ends."""
    import pyarrow.compute as pc

    if redirects.num_rows == 0:
        return table
    hops = redirects.select(["alias", "target"]).rename_columns(["hop_from", "hop_to"])
    for _ in range(MAX_REDIRECT_HOPS):
        joined = table.join(hops, keys="target", right_keys="hop_from", join_type="left outer")
        moved = pc.coalesce(joined.column("hop_to"), joined.column("target"))
        changed = pc.any(pc.not_equal(moved, joined.column("target"))).as_py()
        table = joined.drop_columns(["hop_to"]).set_column(joined.schema.get_field_index("target"), "target", moved)
        if not changed:
            break
    return table


def build_alias_index(output: Path, destination: Path) -> AliasIndexInfo:
    """Merge the alias shards of `output/pool` into sorted, memory-mappable files in `destination`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    files = alias_files(output)
    table = _read_shards(files)
    table = table.filter(pc.and_(pc.greater(pc.utf8_length(table.column("alias")), 0), pc.greater(pc.utf8_length(table.column("target")), 0)))
    table = table.group_by(["target", "alias", "kind"]).aggregate([("count", "sum")]).rename_columns(
        ["target", "alias", "kind", "count"]
    )
    is_redirect = pc.equal(table.column("kind"), "redirect")
    # One target per redirect title (the most counted, then the first by name): a dump holds one.
    redirects = table.filter(is_redirect).sort_by([("alias", "ascending"), ("count", "descending"), ("target", "ascending")])
    if redirects.num_rows:
        keep = pc.not_equal(redirects.column("alias"), pa.concat_arrays([pa.array([None], pa.string()), redirects.column("alias").combine_chunks()[:-1]]))
        redirects = redirects.filter(pc.fill_null(keep, True))
    resolved = _follow_redirects(table.filter(pc.invert(is_redirect)), redirects)
    resolved_redirects = _follow_redirects(redirects, redirects)
    table = pa.concat_tables([resolved.select(list(ALIAS_COLUMNS)), resolved_redirects.select(list(ALIAS_COLUMNS))])
    table = table.filter(pc.or_(pc.not_equal(table.column("kind"), "redirect"), pc.not_equal(table.column("alias"), table.column("target"))))
    table = table.group_by(["target", "alias", "kind"]).aggregate([("count", "sum")]).rename_columns(
        ["target", "alias", "kind", "count"]
    )
    anchors = table.filter(pc.equal(table.column("kind"), "anchor"))
    totals = anchors.group_by("alias").aggregate([("count", "sum")]).rename_columns(["alias", "alias_total"])
    table = table.join(totals, keys="alias", join_type="left outer")
    table = table.set_column(table.schema.get_field_index("alias_total"), "alias_total", pc.fill_null(table.column("alias_total"), 0))
    destination.mkdir(parents=True, exist_ok=True)
    for name, order in (("by_target", ["target", "alias", "kind"]), ("by_alias", ["alias", "target", "kind"])):
        ordered = table.sort_by([(column, "ascending") for column in order]).combine_chunks()
        target = destination / f"{name}.arrow"
        with atomic_path(target) as temporary, pa.OSFile(str(temporary), "wb") as sink, pa.ipc.new_file(sink, ordered.schema) as writer:
            # One batch: workers index the memory-mapped columns directly.
            writer.write_table(ordered, max_chunksize=max(ordered.num_rows, 1))
    kinds = pc.value_counts(table.column("kind")).to_pylist() if table.num_rows else []
    per_kind = {entry["values"]: entry["counts"] for entry in kinds}
    return AliasIndexInfo(destination, table.num_rows, per_kind.get("redirect", 0), per_kind.get("anchor", 0), len(files))


class _SortedColumn:
    """A sorted string column as a sequence bisect can search without materializing it."""

    def __init__(self, array: Any) -> None:
        self._array = array

    def __len__(self) -> int:
        return len(self._array)

    def __getitem__(self, index: int) -> str:
        return self._array[index].as_py()


@dataclass
class AliasRow:
    target: str
    alias: str
    kind: str
    count: int
    alias_total: int

    @property
    def probability(self) -> float:
        """For an anchor: the share of this anchor text's links that point to `target`."""
        return self.count / self.alias_total if self.alias_total else 0.0


@dataclass
class EntityForms:
    """The forms of one page: names (score as correct) and related forms (only masked)."""

    page_title: str
    names: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)


class AliasTable:
    """Read access to the merged alias index (memory-mapped; empty when the dump had no links)."""

    def __init__(self, by_target: pa.Table | None, by_alias: pa.Table | None) -> None:
        self._by_target = by_target
        self._by_alias = by_alias
        self._columns: dict[str, _SortedColumn] = {}
        if by_target is not None and by_target.num_rows:
            self._columns["target"] = _SortedColumn(by_target.column("target").chunk(0))
        if by_alias is not None and by_alias.num_rows:
            self._columns["alias"] = _SortedColumn(by_alias.column("alias").chunk(0))

    @classmethod
    def open(cls, directory: Path) -> AliasTable:
        import pyarrow as pa

        tables = []
        for name in ("by_target", "by_alias"):
            path = directory / f"{name}.arrow"
            tables.append(pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all() if path.is_file() else None)
        return cls(*tables)

    @classmethod
    def empty(cls) -> AliasTable:
        return cls(None, None)

    def __len__(self) -> int:
        return 0 if self._by_target is None else self._by_target.num_rows

    def _rows(self, column: str, key: str) -> list[AliasRow]:
        sorted_column = self._columns.get(column)
        if sorted_column is None:
            return []
        table = self._by_target if column == "target" else self._by_alias
        assert table is not None
        low = bisect.bisect_left(sorted_column, key)
        high = bisect.bisect_right(sorted_column, key, lo=low)
        if low == high:
            return []
        return [AliasRow(**row) for row in table.slice(low, high - low).to_pylist()]

    def rows_of_target(self, title: str) -> list[AliasRow]:
        return self._rows("target", title)

    def rows_of_alias(self, alias: str) -> list[AliasRow]:
        return self._rows("alias", alias)

    def resolve(self, surface: str, anchors: bool = True) -> str | None:
        """The page `surface` names (title, redirect, or, with `anchors`, an unambiguous anchor), or None."""
        if not surface or not len(self):
            return None
        candidates = [surface] if surface[:1].isupper() or surface[:1].isdigit() else []
        title = normalize_title(surface)
        for form in dict.fromkeys([*candidates, title]):
            rows = self.rows_of_alias(form)
            redirect = next((row.target for row in rows if row.kind == "redirect"), None)
            if redirect is not None:
                return redirect
            if any(row.target == form for row in rows) or self.rows_of_target(form):
                return form
        # An anchor resolves only when it is a run of the page's name ("Rand" → "Ayn Rand"), so a
        # demonym ("Canadian") never stands for the country it links to.
        links = [row for row in self.rows_of_alias(surface) if row.kind == "anchor"] if candidates and anchors else []
        if links:
            best = max(links, key=lambda row: (row.count, row.target))
            if best.probability >= RESOLVE_MIN_PROBABILITY and is_word_run_of(surface, display_title(best.target)):
                return best.target
        return None

    def forms(self, page_title: str) -> EntityForms:
        """Name forms and related forms of `page_title` (see the module doc)."""
        name = display_title(page_title)
        result = EntityForms(page_title, names=[name] if _usable_form(name) else [])
        ranked = sorted(self.rows_of_target(page_title), key=lambda row: (-row.count, row.alias))
        for row in ranked:
            form = strip_the(_PARENTHETICAL.sub("", row.alias))
            if not _usable_form(form) or form in result.names or form in result.related:
                continue
            if row.kind == "redirect":
                result.names.append(form)
            elif row.probability >= ANCHOR_MIN_PROBABILITY:
                (result.names if is_word_run_of(form, name) else result.related).append(form)
            if len(result.names) + len(result.related) >= MAX_FORMS:
                break
        return result


def names_several_pages(aliases: AliasTable, surface: str) -> bool:
    """Whether `surface` names two or more different pages, each with real weight.

    The page it names first is the one it redirects to, else the page titled `surface`, else
    the page its links point to most. It names several when, besides that page, some page gets
    at least `AMBIGUOUS_MIN_SHARE` of the links whose anchor text is exactly `surface` and at
    least `AMBIGUOUS_MIN_LINKS` of them: "Hippolytus" linked to the son of Theseus and to the
    bishop of Rome, or a title ("Georgia") whose anchor also links strongly elsewhere. Links to
    a redirect were counted for the page it leads to when the index was built, so a link to
    "USA" and one to "United States" are links to one page here.

    Meant for name answers: a lowercase surface is an ordinary word (False), and a year's links
    ("[[1937 in film|1937]]") go to topics of the same date, so dates are better not asked.

    >>> names_several_pages(AliasTable.empty(), "Hippolytus")
    False
    """
    if not surface[:1].isupper() or not len(aliases):
        return False
    rows = aliases.rows_of_alias(surface)
    redirect = next((row.target for row in rows if row.kind == "redirect"), None)
    first = redirect or (surface if aliases.rows_of_target(surface) else None)
    links = [row for row in rows if row.kind == "anchor"]
    if first is None and links:
        first = max(links, key=lambda row: (row.count, row.target)).target
    return any(
        row.target != first and row.count >= AMBIGUOUS_MIN_LINKS and row.probability >= AMBIGUOUS_MIN_SHARE
        for row in links
    )
