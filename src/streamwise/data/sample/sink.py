"""Where generated tables go: memory for small samples, Parquet or CSV files streamed in chunks."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = ["FileSink", "MemorySink", "TableSink"]


class TableSink(Protocol):
    """Receives generated rows, one chunk at a time, per table name."""

    def write(self, name: str, frame: pd.DataFrame) -> None:
        """Append ``frame`` to table ``name``."""

    def close(self) -> None:
        """Finish every table."""


class MemorySink:
    """Keeps every chunk in memory; :meth:`frames` concatenates them."""

    def __init__(self) -> None:
        self._chunks: dict[str, list[pd.DataFrame]] = {}

    def write(self, name: str, frame: pd.DataFrame) -> None:
        self._chunks.setdefault(name, []).append(frame)

    def close(self) -> None:
        return None

    def frames(self) -> dict[str, pd.DataFrame]:
        """One data frame per table, chunks in the order written."""
        return {
            name: pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
            for name, chunks in self._chunks.items()
        }


class FileSink:
    """Streams each table to ``out_dir/NAME.parquet`` or ``out_dir/NAME.csv``."""

    def __init__(self, out_dir: str | Path, fmt: Literal["parquet", "csv"] = "parquet") -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.fmt = fmt
        self._writers: dict[str, pq.ParquetWriter | pacsv.CSVWriter] = {}
        self._schemas: dict[str, pa.Schema] = {}
        self.paths: dict[str, Path] = {}

    def write(self, name: str, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if name not in self._writers:
            path = self.out_dir / f"{name}.{self.fmt}"
            # pandas 2 turns an all-missing object column into Arrow's null type; a later chunk
            # may hold text there, so such a column is declared text from the start.
            schema = pa.schema(
                f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema
            )
            table = table.cast(schema)
            self._schemas[name] = table.schema
            self.paths[name] = path
            if self.fmt == "parquet":
                self._writers[name] = pq.ParquetWriter(path, table.schema, compression="zstd")
            else:
                self._writers[name] = pacsv.CSVWriter(path, table.schema)
        else:
            table = table.cast(self._schemas[name])
        self._writers[name].write_table(table)

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
