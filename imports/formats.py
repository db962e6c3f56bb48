"""Reading import files (CSV, XLSX, JSON / JSON Lines) into a header and raw records, and writing exports.

Reading never raises on bad input: every problem with the file as a whole becomes a ``FileProblem`` with a
message an editor can act on (which byte, line or column). Cells are checked here for what no field may hold
(NUL bytes, oversized cells, spreadsheet formulas); values are parsed per field in ``imports.specs``.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from registry.api.export import FORMULA_STARTS, csv_cell, csv_stream, plain

FORMATS = ("csv", "xlsx", "json")
EXPORT_FORMATS = ("csv", "xlsx", "json", "ndjson")
EXTENSIONS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".json": "json", ".jsonl": "json", ".ndjson": "json"}
# Characters a spreadsheet reads as the start of a formula. The export prefixes them with ' (registry/api/export.py).
FORMULA_CHARS = ("=", "+", "-", "@")


def max_file_bytes() -> int:
    return int(getattr(settings, "IMPORTS_MAX_FILE_BYTES", 20 * 1024 * 1024))


def max_cell_chars() -> int:
    return int(getattr(settings, "IMPORTS_MAX_CELL_CHARS", 100_000))


def max_rows() -> int:
    return int(getattr(settings, "IMPORTS_MAX_ROWS", 100_000))


class FileProblem(Exception):
    """The file cannot be read as a whole; ``message`` says why and where."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class RawRecord:
    """One record of the file: where it is (``location``, e.g. "line 3") and its cells by column."""

    number: int
    location: str
    cells: dict[str, Any]
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, message)


@dataclass
class ParsedFile:
    columns: list[str]
    records: list[RawRecord]


def detect_format(*, filename: str, content: bytes, requested: str | None = None) -> str:
    if requested:
        if requested not in FORMATS:
            raise FileProblem(f"Unknown format {requested!r}: use one of {', '.join(FORMATS)}.")
        return requested
    lowered = filename.lower()
    for extension, kind in EXTENSIONS.items():
        if lowered.endswith(extension):
            return kind
    if content.startswith(b"PK\x03\x04"):
        return "xlsx"
    if content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{"):
        return "json"
    return "csv"


def parse(*, content: bytes, kind: str) -> ParsedFile:
    """The file's header and records, or ``FileProblem``."""
    if len(content) > max_file_bytes():
        raise FileProblem(
            f"The file is {len(content):,} bytes; the limit is {max_file_bytes():,} bytes (IMPORTS_MAX_FILE_BYTES). "
            "Split it into smaller files."
        )
    if not content.strip(b" \t\r\n"):
        raise FileProblem("The file is empty.")
    if kind == "xlsx":
        columns, rows = _read_xlsx(content)
    elif kind == "json":
        columns, rows = _read_json(content)
    else:
        columns, rows = _read_csv(content)
    if len(rows) > max_rows():
        raise FileProblem(f"The file has {len(rows):,} rows; the limit is {max_rows():,} (IMPORTS_MAX_ROWS).")
    return ParsedFile(columns=columns, records=rows)


# --- Text and cells ----------------------------------------------------------------------------------------


def decode_utf8(content: bytes) -> str:
    """UTF-8 text without its byte order mark; otherwise a problem naming the first bad byte's offset."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = content[error.start : error.start + 1].hex()
        raise FileProblem(
            f"The file is not UTF-8 text: byte 0x{bad} at byte offset {error.start} cannot be read as UTF-8. "
            "Save it as UTF-8 (in Excel: CSV UTF-8) and upload it again."
        ) from None
    return text.removeprefix("\ufeff")


def clean_text_cell(value: str, *, column: str, spreadsheet: bool) -> tuple[str, str | None]:
    """A text cell as stored, or a problem. In a spreadsheet format (CSV, XLSX) a cell starting with a formula
    character is refused unless the export's neutralising ``'`` precedes it (which is removed)."""
    if "\x00" in value:
        return value, "contains a NUL byte (\\0), which no field can hold"
    if len(value) > max_cell_chars():
        return value, f"is {len(value):,} characters long; a cell may hold at most {max_cell_chars():,}"
    if spreadsheet:
        if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
            return value[1:], None
        if value.startswith(FORMULA_CHARS):
            return value, (
                f"starts with {value[0]!r} and would run as a spreadsheet formula; if it is text, prefix it "
                "with ' (as the export does)"
            )
    return value, None


def _header(raw: Sequence[Any], *, where: str) -> list[str]:
    columns = ["" if cell is None else str(cell).strip() for cell in raw]
    while columns and columns[-1] == "":
        columns.pop()  # trailing empty header cells (a spreadsheet's stray column)
    if not columns:
        raise FileProblem(f"The first row ({where}) must be a header naming the columns; it is empty.")
    for position, name in enumerate(columns, start=1):
        if "\x00" in name:
            raise FileProblem(f"Header cell {position} contains a NUL byte (\\0).")
        if len(name) > 200:
            raise FileProblem(f"Header cell {position} is {len(name):,} characters long; column names are short.")
        if name == "":
            raise FileProblem(f"Header cell {position} is empty: every column needs a name.")
    seen: dict[str, int] = {}
    duplicates = []
    for position, name in enumerate(columns, start=1):
        if name in seen:
            duplicates.append(f"{name!r} (columns {seen[name]} and {position})")
        seen.setdefault(name, position)
    if duplicates:
        raise FileProblem("Duplicate column names in the header: " + "; ".join(duplicates) + ".")
    return columns


# --- CSV -------------------------------------------------------------------------------------------------------


def _read_csv(content: bytes) -> tuple[list[str], list[RawRecord]]:
    text = decode_utf8(content)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FileProblem(f"The file contains a NUL byte (\\0) on line {line}: it is not a text (CSV) file.")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[RawRecord] = []
    try:
        header_row = next(reader, None)
        if header_row is None:
            raise FileProblem("The file is empty.")
        columns = _header(header_row, where="line 1")
        start = reader.line_num + 1
        for row in reader:
            line = start
            start = reader.line_num + 1
            if not row or all(cell == "" for cell in row):
                continue  # blank lines
            record = RawRecord(number=len(records) + 1, location=f"line {line}", cells={})
            if len(row) > len(columns) and any(cell != "" for cell in row[len(columns) :]):
                record.problems.append(
                    ("", f"has {len(row)} cells but the header names {len(columns)} columns (a stray delimiter?)")
                )
            for name, value in zip(columns, row, strict=False):
                cleaned, problem = clean_text_cell(value, column=name, spreadsheet=True)
                record.cells[name] = cleaned
                if problem:
                    record.problems.append((name, problem))
            records.append(record)
            if len(records) > max_rows():
                break
    except csv.Error as error:
        message = str(error)
        if "field larger than field limit" in message:
            message = f"a cell is longer than the limit of {max_cell_chars():,} characters"
        raise FileProblem(f"The file is not valid CSV near line {reader.line_num}: {message}.") from None
    return columns, records


# --- XLSX ------------------------------------------------------------------------------------------------------


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _read_xlsx(content: bytes) -> tuple[list[str], list[RawRecord]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > 10 * max_file_bytes():
                raise FileProblem(f"The workbook unpacks to {unpacked:,} bytes, more than ten times the file limit.")
            if archive.testzip() is not None:
                raise FileProblem("The XLSX file is corrupt (a part of it fails its checksum).")
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
        raise FileProblem(
            "The file is not a readable XLSX workbook (it is truncated, corrupt, or another format)."
        ) from None
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds on a damaged workbook; all mean the same to the editor
        raise FileProblem(
            "The file is not a readable XLSX workbook (it is truncated, corrupt, or another format)."
        ) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise FileProblem("The workbook has no worksheet.")
        rows = sheet.iter_rows()
        header_cells = next(rows, None)
        if header_cells is None:
            raise FileProblem("The first worksheet is empty.")
        columns = _header([cell.value for cell in header_cells], where="row 1")
        records: list[RawRecord] = []
        for row_number, cells in enumerate(rows, start=2):
            values = [getattr(cell, "value", None) for cell in cells]
            if all(value in (None, "") for value in values):
                continue
            record = RawRecord(number=len(records) + 1, location=f"row {row_number}", cells={})
            for position, cell in enumerate(cells):
                value = getattr(cell, "value", None)
                if position >= len(columns):
                    if value not in (None, ""):
                        record.problems.append(("", f"has a value in column {position + 1}, which has no header"))
                    continue
                name = columns[position]
                if getattr(cell, "data_type", None) == "f":
                    record.problems.append((name, "is a spreadsheet formula; import values only"))
                    record.cells[name] = ""
                    continue
                value = _xlsx_cell(value)
                if isinstance(value, str):
                    value, problem = clean_text_cell(value, column=name, spreadsheet=True)
                    if problem:
                        record.problems.append((name, problem))
                record.cells[name] = "" if value is None else value
            records.append(record)
            if len(records) > max_rows():
                break
    except FileProblem:
        raise
    except Exception:
        raise FileProblem("The XLSX workbook could not be read to the end (it is truncated or corrupt).") from None
    finally:
        workbook.close()
    return columns, records


# --- JSON ------------------------------------------------------------------------------------------------------


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise FileProblem(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _json_value_problem(value: Any) -> str | None:
    if value is None or isinstance(value, bool | int | float | str):
        return None
    if isinstance(value, list) and all(isinstance(item, str | int) for item in value):
        return None
    return "must be a string, number, true/false, null or a list of strings (not an object or nested list)"


def _json_record(obj: Any, *, number: int, location: str) -> RawRecord:
    if not isinstance(obj, dict):
        raise FileProblem(f'{location.capitalize()} is not a JSON object: each record must be {{"column": value}}.')
    record = RawRecord(number=number, location=location, cells={})
    for key, value in obj.items():
        problem = _json_value_problem(value)
        if problem is None:
            texts = value if isinstance(value, list) else [value]
            for text in texts:
                if isinstance(text, str):
                    _, problem = clean_text_cell(text, column=key, spreadsheet=False)
                    if problem:
                        break
        if problem:
            record.problems.append((key, problem))
        record.cells[key] = value
    return record


def _read_json(content: bytes) -> tuple[list[str], list[RawRecord]]:
    text = decode_utf8(content)
    stripped = text.lstrip()
    records: list[RawRecord] = []
    if stripped.startswith("["):
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except json.JSONDecodeError as error:
            raise FileProblem(
                f"The file is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
            ) from None
        except FileProblem as problem:
            raise FileProblem(f"The file is not usable JSON: {problem.message}.") from None
        except RecursionError:
            raise FileProblem("The file is not usable JSON: it is nested too deeply.") from None
        if not isinstance(data, list):
            raise FileProblem("The JSON file must be an array of objects, or one object per line (JSON Lines).")
        for index, obj in enumerate(data, start=1):
            records.append(_json_record(obj, number=index, location=f"item {index}"))
    else:
        for line_number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line, object_pairs_hook=_no_duplicate_keys)
            except json.JSONDecodeError as error:
                raise FileProblem(
                    f"The file is not valid JSON Lines: {error.msg} at line {line_number}, column {error.colno}."
                ) from None
            except FileProblem as problem:
                raise FileProblem(f"Line {line_number} is not usable: {problem.message}.") from None
            except RecursionError:
                raise FileProblem(f"Line {line_number} is nested too deeply.") from None
            records.append(_json_record(obj, number=len(records) + 1, location=f"line {line_number}"))
    if not records:
        raise FileProblem("The JSON file holds no records.")
    columns: list[str] = []
    seen: set[str] = set()
    for record in records:
        for key in record.cells:
            if key not in seen:
                seen.add(key)
                columns.append(key)
    for name in columns:
        if "\x00" in name or len(name) > 200 or not name.strip():
            raise FileProblem(f"The key {name[:40]!r} is not a column name.")
    return columns, records


# --- Writers -------------------------------------------------------------------------------------------------


def xlsx_cell(value: Any) -> Any:
    """A value as an XLSX cell: numbers stay numbers, everything else is text neutralised like the CSV export's
    (openpyxl would store a text starting with = as a formula, which Excel evaluates)."""
    if value is None:
        return None
    if type(value) is int:
        return value
    return csv_cell(value)


def write_xlsx(columns: Sequence[str], rows: Iterable[Sequence[Any]], output: Any, *, title: str = "export") -> None:
    """Write an XLSX workbook (openpyxl's write-only mode: rows go to a temporary file as they come)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(columns))
    for row in rows:
        sheet.append([xlsx_cell(value) for value in row])
    workbook.save(output)


def json_array_stream(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """A JSON array of objects, one object per line."""
    yield "["
    first = True
    for row in rows:
        record = dict(zip(columns, map(plain, row), strict=True))
        yield ("\n" if first else ",\n") + json.dumps(record, cls=DjangoJSONEncoder, ensure_ascii=False)
        first = False
    yield "\n]\n"


def ndjson_stream(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    for row in rows:
        record = dict(zip(columns, map(plain, row), strict=True))
        yield json.dumps(record, cls=DjangoJSONEncoder, ensure_ascii=False) + "\n"


def text_stream(kind: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    if kind == "csv":
        return csv_stream(columns, (tuple(row) for row in rows))
    if kind == "ndjson":
        return ndjson_stream(columns, rows)
    return json_array_stream(columns, rows)
