"""Bad import files: each gets a clear report, never an exception (or a 500 in the admin), never a partial import,
and 0 rows and 0 history events written. Hand-made files for each known problem, then hypothesis-generated ones."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from pghistory.models import Event

from imports.models import ImportBatch, ImportStatus
from imports.services import import_run
from imports.specs import SPECS
from partnerships.models import Partnership
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = "slug,name,region,jurisdiction,description"
GOOD_ROW = "new-one,New one,europe,london,Plain text"


@pytest.fixture
def places(db) -> None:
    factories.RegionFactory(slug="europe", name="Europe")
    factories.JurisdictionFactory(slug="london", name="London")


def event_count() -> int:
    return sum(
        model.objects.count()
        for model in apps.get_models()
        if issubclass(model, Event) and not model._meta.proxy and not model._meta.abstract
    )


def run(content: bytes | str, *, name: str = "f.csv", dry_run: bool = False, **kw: Any):
    data = content.encode() if isinstance(content, str) else content
    return import_run(file=data, filename=name, model=kw.pop("model", "partnership"), dry_run=dry_run, **kw)


def assert_rejected(report: Any, *words: str) -> str:
    """The report refuses the file (or its rows), names the problem, and nothing was written."""
    assert not report.ok
    assert not report.written
    text = " ".join(report.problems + [row.describe() for row in report.rows])
    for word in words:
        assert word.lower() in text.lower(), text
    assert ImportBatch.objects.get(pk=report.batch_id).status == ImportStatus.REJECTED
    assert not Partnership.objects.exists()
    return text


def xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# --- Accepted ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "\ufeff" + HEADER + "\n" + GOOD_ROW + "\n",  # byte order mark
        HEADER + "\r\n" + GOOD_ROW + "\r\n",  # CRLF
        HEADER + "\n" + GOOD_ROW,  # no final newline
        HEADER + "\n\n" + GOOD_ROW + "\n\n",  # blank lines
    ],
    ids=["bom", "crlf", "no-final-newline", "blank-lines"],
)
def test_accepted_variants(places, content):
    report = run(content)
    assert report.ok
    assert [row.action for row in report.rows] == ["created"]
    assert Partnership.objects.get().description == "Plain text"


def test_quotes_and_newlines_in_cells_are_kept(places):
    description = "She said \"no\", twice;\r\nthen, on a new line: 'fine'."
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER.split(","), ["new-one", "New one", "europe", "london", description]])
    report = run(buffer.getvalue())
    assert report.ok
    assert Partnership.objects.get().description == description


def test_neutralised_formula_is_accepted_without_its_quote(places):
    report = run(HEADER + "\n" + "new-one,New one,europe,london,'=1+1\n")
    assert report.ok
    assert Partnership.objects.get().description == "=1+1"


# --- Rejected: the file ---------------------------------------------------------------------------------------


def test_wrong_encoding_names_the_byte_offset(places):
    content = (HEADER + "\nnew-one,Caf").encode() + b"\xe9" + b",europe,london,x\n"
    text = assert_rejected(run(content), "not UTF-8", "0xe9")
    offset = content.index(b"\xe9")
    assert f"byte offset {offset}" in text


def test_utf16_file_is_not_utf8(places):
    assert_rejected(run((HEADER + "\n" + GOOD_ROW).encode("utf-16")), "not UTF-8", "byte offset 0")


def test_duplicate_headers_are_named(places):
    assert_rejected(run("slug,name,name,region\nx,a,b,europe\n"), "duplicate", "'name' (columns 2 and 3)")


def test_nul_byte_is_refused(places):
    assert_rejected(run(HEADER + "\n" + "new-one,New\x00one,europe,london,x\n"), "NUL", "line 2")


def test_unknown_columns_are_named(places):
    assert_rejected(run("slug,name,colour,size\nx,y,red,9\n"), "unknown column", "'colour'", "'size'")


@pytest.mark.parametrize("content", ["", "   \r\n\r\n", "\ufeff"], ids=["empty", "blank", "only-bom"])
def test_empty_file(places, content):
    assert_rejected(run(content), "empty")


def test_no_header(places):
    assert_rejected(run(GOOD_ROW + "\n" + GOOD_ROW.replace("new-one", "new-two")), "header")


def test_semicolon_separated_file_is_explained(places):
    assert_rejected(run("slug;name;region\nx;y;europe\n"), "separate columns with ';'")


def test_admin_post_without_a_file(places, admin_client):
    response = admin_client.post("/admin/partnerships/partnership/import/", {"dry_run": "on"})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_missing_slug_column(places):
    assert_rejected(run("name,region\nx,europe\n"), "'slug' is missing")


def test_header_only_is_an_empty_import(places):
    report = run(HEADER + "\n")
    assert report.ok
    assert report.rows == []


def test_one_megabyte_cell_is_refused(places):
    assert_rejected(run(HEADER + "\nnew-one,New,europe,london," + "x" * 1_000_000 + "\n"), "longer than the limit")


def test_cell_over_the_cell_cap_is_refused(places):
    assert_rejected(
        run(HEADER + "\nnew-one,New,europe,london," + "x" * 120_000 + "\n"), "description", "at most 100,000"
    )


def test_cell_over_the_fields_max_length_is_refused(places):
    assert_rejected(run(HEADER + "\nnew-one," + "n" * 400 + ",europe,london,x\n"), "name", "at most 300 characters")


def test_unterminated_quote_is_invalid_csv(places):
    assert_rejected(run(HEADER + '\nnew-one,"New one,europe,london,x\n'), "not valid CSV")


def test_file_over_the_size_limit(places, settings):
    settings.IMPORTS_MAX_FILE_BYTES = 100
    assert_rejected(run(HEADER + "\n" + GOOD_ROW * 10), "limit is 100 bytes")


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_formulas_are_refused(places, formula):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER.split(","), ["new-one", "New one", "europe", "london", formula]])
    assert_rejected(run(buffer.getvalue()), "description", "formula")


def test_xlsx_formula_cell_is_refused(places):
    content = xlsx([HEADER.split(","), ["new-one", "New one", "europe", "london", "=1+1"]])
    assert_rejected(run(content, name="f.xlsx"), "description", "formula")


def test_xlsx_values_are_accepted(places):
    content = xlsx([[*HEADER.split(","), "year_established"], ["new-one", "New one", "europe", "london", "x", 2001]])
    report = run(content, name="f.xlsx")
    assert report.ok
    assert Partnership.objects.get().year_established == 2001


def test_truncated_and_corrupt_xlsx(places):
    content = xlsx([HEADER.split(","), GOOD_ROW.split(",")])
    assert_rejected(run(content[: len(content) // 2], name="f.xlsx"), "not a readable XLSX")
    assert_rejected(run(b"PK\x03\x04" + b"\x00garbage" * 50, name="f.xlsx"), "XLSX")
    assert_rejected(run(b"just text", name="f.xlsx"), "not a readable XLSX")


def test_xlsx_with_duplicate_headers(places):
    assert_rejected(run(xlsx([["slug", "slug"], ["a", "b"]]), name="f.xlsx"), "duplicate")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('[{"slug": "a", "name": "b"}', ("not valid JSON", "line 1", "column")),
        ('{"slug": "a"}\n{"slug": "b", }\n', ("not valid JSON Lines", "line 2", "column 15")),
        ('{"slug": "a", "slug": "b"}', ("appears twice",)),
        ("[1, 2]", ("not a JSON object",)),
        ('"just a string"', ("not a JSON object",)),
        ("[]", ("no records",)),
        ('{"slug": "a", "name": {"nested": 1}}', ("name", "not an object")),
        ('{"slug": "a", "name": "x\\u0000y"}', ("name", "NUL")),
        ('{"slug": "a", "name": "x", "colour": "red"}', ("unknown column", "'colour'")),
    ],
    ids=[
        "truncated",
        "jsonl-syntax",
        "duplicate-key",
        "not-objects",
        "scalar",
        "empty-array",
        "nested",
        "nul",
        "unknown",
    ],
)
def test_bad_json(places, content, words):
    assert_rejected(run(content, name="f.json"), *words)


def test_json_array_and_lines_are_accepted(places):
    rows = [{"slug": "new-one", "name": "New one", "region": "europe", "jurisdiction": "london", "description": "=x"}]
    report = run(json.dumps(rows), name="f.json")
    assert report.ok
    assert Partnership.objects.get().description == "=x"
    report = run("\n".join(json.dumps({**row, "name": "Renamed"}) for row in rows), name="f.jsonl")
    assert report.ok
    assert [row.changed for row in report.rows] == [["name"]]


def test_rejected_file_writes_no_history_event(places):
    events = event_count()
    assert_rejected(run(HEADER + "\n" + GOOD_ROW + "\nbad-one,,europe,london,x\n"), "name")
    assert event_count() == events


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"\xff\xfe\x00s\x00l", "f.csv"),
        (b"slug,slug\n", "f.csv"),
        (b"PK\x03\x04broken", "f.xlsx"),
        (b"[{", "f.json"),
        (HEADER.encode() + b"\nx,=cmd|' /C calc'!A0,europe,london,x\n", "f.csv"),
        (b"\x00" * 100, "f.csv"),
    ],
)
def test_admin_bad_files_get_a_report_not_a_500(places, admin_client, content, name):
    response = admin_client.post(
        "/admin/partnerships/partnership/import/", {"file": SimpleUploadedFile(name, content), "dry_run": ""}
    )
    assert response.status_code == 422
    assert "nothing written" in response.content.decode().lower()
    assert not Partnership.objects.exists()


# --- Generated files --------------------------------------------------------------------------------------------

COLUMNS = list(SPECS["partnership"].export_columns)
SLUGS = st.lists(st.text("abcxyz019", min_size=1, max_size=5), min_size=1, max_size=3).map("-".join)
CELLS = st.one_of(
    SLUGS,
    st.text(max_size=30),
    st.sampled_from(["europe", "london", "", "true", "2001", "1700", "unknown", "ended", "'=1", "=1", "+x", "@a"]),
    st.text(alphabet=st.sampled_from(['"', "\n", "\r", ",", "\x00", ";", "'", "=", "a", "é"]), max_size=12),
)


def db_state() -> tuple[int, int]:
    return Partnership.objects.count(), event_count()


def check(report: Any, before: tuple[int, int]) -> None:
    event("file problem" if report.problems else "rows rejected" if report.rejected else "accepted")
    assert report.batch_id is not None
    assert report.status in (ImportStatus.APPLIED, ImportStatus.REJECTED)
    for row in report.rows:
        assert row.action in ("created", "updated", "unchanged", "rejected")
        assert (row.action == "rejected") == bool(row.errors)
    if not report.ok:
        assert report.problems or report.rejected
        assert db_state() == before


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=2000), name=st.sampled_from(["f.csv", "f.xlsx", "f.json", "f.jsonl", "f"]))
def test_random_bytes_never_escape(places, content, name):
    before = db_state()
    check(run(content, name=name), before)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.one_of(
        st.lists(st.sampled_from(COLUMNS[1:]), unique=True, max_size=6).map(lambda names: ["slug", *names]),
        st.lists(st.one_of(st.sampled_from(COLUMNS), st.text(max_size=8)), min_size=1, max_size=8),
    ),
    rows=st.lists(st.lists(CELLS, max_size=9), max_size=6),
    line_end=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
)
def test_generated_csv_files(places, header, rows, line_end, bom):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(header)
    writer.writerows(rows)
    before = db_state()
    report = run(("\ufeff" if bom else "") + buffer.getvalue())
    check(report, before)
    if (
        any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row[: len(header)])
        and not report.problems
    ):
        assert not report.ok  # a formula never gets in


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(
        st.dictionaries(
            st.sampled_from(COLUMNS),
            st.one_of(st.none(), st.booleans(), st.integers(-5, 3000), CELLS, st.lists(CELLS, max_size=3)),
            max_size=6,
        ),
        max_size=5,
    ),
    lines=st.booleans(),
)
def test_generated_json_files(places, records, lines):
    content = "\n".join(json.dumps(r) for r in records) if lines else json.dumps(records)
    before = db_state()
    check(run(content, name="f.jsonl" if lines else "f.json"), before)
