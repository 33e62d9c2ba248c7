"""The shared shape of memtrain's readers: a fixed list of input units, split over tasks by rank."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from datatrove.pipeline.readers.base import BaseReader

if TYPE_CHECKING:
    from datatrove.data import Document, DocumentsPipeline

    from memtrain_data.pipeline.readers.input_unit import InputUnit


class UnitReader(BaseReader):
    """A reader whose task `rank` reads `units[rank::world_size]`; subclasses implement `read_unit`.

    The units are fixed by the input (files, byte ranges), so the work of a task never depends
    on how many workers run it.
    """

    def __init__(self, units: list[InputUnit], limit: int = -1) -> None:
        super().__init__(limit=limit)
        self.units = units

    def read_unit(self, unit: InputUnit) -> Iterator[Document]:
        raise NotImplementedError

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        read = 0
        for unit in self.units[rank::world_size]:
            for document in self.read_unit(unit):
                if self.limit != -1 and read >= self.limit:
                    return
                read += 1
                yield document
