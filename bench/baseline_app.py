"""Raw baseline for bench/api_bench.py: the partnership endpoints of the API as bare WSGI, psycopg 3 and orjson.

Not part of the registry. It serves the same rows and the same JSON (keys, values, order) as
``/api/v1/partnerships/`` from hand-written SQL, with no framework, no ORM, no validation, no ETag: the fastest
plain Python could serve the same data, so the bench can print each Django figure as a ratio to it. One
connection per worker process (opened on first use, autocommit, session time zone UTC). Run by the bench as
``gunicorn --chdir bench baseline_app:application`` with DATABASE_URL set. Routes: ``/hello`` (no database),
``/detail/<slug>``, ``/list``, ``/list-filtered?region=&year_min=&data_sharing=``, ``/search?q=``,
``/export.csv?region=&year_min=&data_sharing=`` (``COPY ... TO STDOUT``, streamed).
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import orjson
import psycopg
from psycopg.rows import dict_row, tuple_row

PAGE = 50
_connection: psycopg.Connection[dict[str, Any]] | None = None

COLUMNS = """p.id, p.slug, p.name, r.slug AS r_slug, r.name AS r_name, j.slug AS j_slug, j.name AS j_name,
 j.level AS j_level, c.code AS j_country, p.focus_summary, p.primary_objective, p.description, p.year_established,
 p.year_ended, p.status, p.formalisation, p.data_sharing, p.verification_status, p.editorial_note, p.is_synthetic,
 p.first_published_at, p.created_at, p.updated_at, p.jurisdiction_id"""
FROM = """partnerships_partnership p JOIN geography_region r ON r.id = p.region_id
 JOIN geography_jurisdiction j ON j.id = p.jurisdiction_id LEFT JOIN geography_country c ON c.id = j.country_id"""
FILTERED = """p.region_id = (SELECT id FROM geography_region WHERE slug = %(region)s)
 AND p.year_established >= %(year_min)s::int AND p.data_sharing = %(data_sharing)s"""
# ?q= as partnerships/search.py: the stored vector, or a near-miss name, or a published NGO / police name.
QUERY = "registry_unaccent(%(q)s)"
BY_VECTOR = f"SELECT id FROM partnerships_partnership WHERE search_vector @@ websearch_to_tsquery('english', {QUERY})"
BY_NAMES = f"""UNION SELECT id FROM partnerships_partnership WHERE registry_unaccent(name) %%> {QUERY}
 UNION SELECT partnership_id FROM partnerships_partnership_ngos WHERE ngo_id IN
  (SELECT id FROM partnerships_ngo WHERE is_published AND name %%> {QUERY})
 UNION SELECT partnership_id FROM partnerships_partnership_police_departments WHERE policedepartment_id IN
  (SELECT id FROM partnerships_policedepartment WHERE is_published AND name %%> {QUERY})"""
RANK = f"""ts_rank(p.search_vector, websearch_to_tsquery('english', {QUERY}))::float8
 + 0.1 * word_similarity({QUERY}, registry_unaccent(p.name))::float8"""
OPERATORS = re.compile(r'"|(?:^|\s)-\S|(?:^|\s)or(?:\s|$)', re.IGNORECASE)


# The many-to-many links of a partnership: (key, link table, its column, linked table, published ones only).
LINKS: list[tuple[str, str, str, str, bool]] = [
    ("ngos", "partnerships_partnership_ngos", "ngo_id", "partnerships_ngo", True),
    ("police_departments", "partnerships_partnership_police_departments", "policedepartment_id",
     "partnerships_policedepartment", True),
    ("focus_areas", "partnerships_partnership_focus_areas", "focusarea_id", "partnerships_focusarea", False),
    ("surveillance_practices", "partnerships_partnership_surveillance_practices", "surveillancepractice_id",
     "partnerships_surveillancepractice", True),
]  # fmt: skip


def _linked(key: str, link: str, column: str, table: str, public: bool) -> str:
    published = " AND o.is_published" if public else ""
    return f"""SELECT '{key}', l.partnership_id, o.slug, o.name, NULL, NULL, NULL, NULL, o.name, NULL, o.id
 FROM {link} l JOIN {table} o ON o.id = l.{column} WHERE l.partnership_id = ANY(%(ids)s){published}"""


SOURCES = """SELECT 'sources', l.partnership_id, s.slug, s.title, s.publisher, NULLIF(s.url, ''), s.kind, s.tier,
 s.title, NULL, s.id FROM partnerships_partnership_sources l JOIN provenance_source s ON s.id = l.source_id
 WHERE l.partnership_id = ANY(%(ids)s)"""
CLAIMS = """SELECT 'claims', c.partnership_id, c.field, c.value, s.slug, c.locator, c.quote, NULL, c.field, c.value,
 c.id FROM provenance_claim c JOIN provenance_source s ON s.id = c.source_id WHERE c.partnership_id = ANY(%(ids)s)"""
# The reviewers' current resolution of each resolved field (the latest one per field), as DisputeResolutionsField.
RESOLUTIONS = """SELECT 'dispute_resolutions', r.partnership_id, r.field, r.chosen_value, r.reason,
 to_char(r.resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), NULL, NULL, r.field, NULL, r.id
 FROM (SELECT DISTINCT ON (partnership_id, field) * FROM provenance_disputeresolution
 WHERE partnership_id = ANY(%(ids)s) ORDER BY partnership_id, field, resolved_at DESC, id DESC) r"""
# Everything nested in a page of partnerships, in one query: (key, partnership id, 6 values, 3 sort keys), sorted
# as Django's prefetches (names, then the sources by title, then the claims by field and value).
RELATED = (
    " UNION ALL ".join([*(_linked(*link) for link in LINKS), SOURCES, CLAIMS, RESOLUTIONS]) + " ORDER BY 1, 9, 10, 11"
)
SHAPES = {
    "sources": ("slug", "title", "publisher", "url", "kind", "tier"),
    "claims": ("field", "value", "source", "locator", "quote"),
    "dispute_resolutions": ("field", "chosen_value", "reason", "resolved_at"),
}
CHECKLIST = """SELECT m.slug AS mechanism, m.name, coalesce(a.status, 'unknown') AS status, e.slug AS evidence,
 coalesce(a.note, '') AS note FROM partnerships_accountabilitymechanism m
 LEFT JOIN partnerships_mechanismassessment a ON a.mechanism_id = m.id AND a.partnership_id = %s
 LEFT JOIN provenance_source e ON e.id = a.evidence_id WHERE m.is_published ORDER BY m.position, m.name"""
LAW = """WITH RECURSIVE chain(id, parent_id, depth) AS (
 SELECT id, parent_id, 0 FROM geography_jurisdiction WHERE id = %s
 UNION ALL SELECT j.id, j.parent_id, chain.depth + 1 FROM geography_jurisdiction j JOIN chain ON j.id = chain.parent_id
 WHERE chain.depth < 32)
SELECT i.slug, i.short_name, i.title, i.kind, ij.slug AS jurisdiction, NULLIF(i.official_url, '') AS official_url
 FROM legal_legalinstrument i JOIN geography_jurisdiction ij ON ij.id = i.jurisdiction_id
 WHERE i.is_published AND i.jurisdiction_id IN (SELECT id FROM chain)
 AND (i.in_force_from <= CURRENT_DATE OR (i.in_force_from IS NULL
      AND (i.year IS NULL OR i.year <= extract(year FROM CURRENT_DATE))))
 AND (i.in_force_to IS NULL OR i.in_force_to >= CURRENT_DATE) ORDER BY ij.name, i.short_name"""


NAMES = {
    key: f"""array_to_string(ARRAY(SELECT o.name FROM {link} l JOIN {table} o ON o.id = l.{column}
 WHERE l.partnership_id = p.id{" AND o.is_published" if public else ""} ORDER BY o.name, o.id), '; ') AS {key}"""
    for key, link, column, table, public in LINKS
}


# The filtered CSV export: the columns of registry/api/export.py, aggregated in the same SELECT.
EXPORT = f"""COPY (SELECT p.slug, p.name, r.name AS region, c.code AS country, j.name AS jurisdiction,
 {NAMES["ngos"]}, {NAMES["police_departments"]}, {NAMES["focus_areas"]}, p.year_established,
 array_to_string(ARRAY(SELECT DISTINCT value FROM provenance_claim WHERE partnership_id = p.id
  AND field = 'year_established' ORDER BY value), '; ') AS year_established_claims, p.status, p.formalisation,
 p.data_sharing, {NAMES["surveillance_practices"]},
 p.verification_status, array_to_string(ARRAY(SELECT field FROM provenance_claim WHERE partnership_id = p.id
  GROUP BY field HAVING count(DISTINCT value) > 1 ORDER BY field), '; ') AS disputed_fields,
 array_to_string(ARRAY(SELECT url FROM (SELECT s.url FROM provenance_source s JOIN partnerships_partnership_sources l
  ON l.source_id = s.id WHERE l.partnership_id = p.id UNION SELECT s.url FROM provenance_source s JOIN provenance_claim
  cl ON cl.source_id = s.id WHERE cl.partnership_id = p.id) u WHERE url <> '' ORDER BY url), '; ') AS source_urls,
 p.updated_at, %(permalink)s || p.slug || '/' AS permalink
 FROM {FROM} WHERE p.is_published AND __WHERE__ ORDER BY p.slug) TO STDOUT WITH CSV HEADER"""
# Each filter of the export only when the request gives it: the three filters, one of them, or none (all rows).
EXPORT_FILTERS = {
    "region": "p.region_id = (SELECT id FROM geography_region WHERE slug = %(region)s)",
    "year_min": "p.year_established >= %(year_min)s::int",
    "data_sharing": "p.data_sharing = %(data_sharing)s",
}


def db() -> psycopg.Connection[dict[str, Any]]:
    global _connection  # one connection per worker process
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(
            os.environ["DATABASE_URL"], autocommit=True, row_factory=dict_row, options="-c TimeZone=UTC"
        )
    return _connection


OWN_BEFORE = ("focus_summary", "primary_objective", "description", "year_established", "year_ended", "status")
OWN_AFTER = ("editorial_note", "is_synthetic", "first_published_at", "created_at", "updated_at")


def partnerships(where: str, params: dict[str, Any], order: str, limit: int) -> list[dict[str, Any]]:
    """Partnerships as the API's PartnershipSerializer writes them (plus ``id`` and ``jurisdiction_id``)."""
    sql = f"SELECT {COLUMNS} FROM {FROM} WHERE p.is_published AND {where} ORDER BY {order} LIMIT {limit}"
    rows = db().execute(sql, params).fetchall()
    related: dict[tuple[str, int], list[Any]] = defaultdict(list)
    if rows:
        for row in db().cursor(row_factory=tuple_row).execute(RELATED, {"ids": [row["id"] for row in rows]}):
            keys = SHAPES.get(row[0], ("slug", "name"))
            related[row[0], row[1]].append(dict(zip(keys, row[2:8], strict=False)))
    out = []
    for p in rows:
        pid = p["id"]
        claims: dict[str, set[str]] = defaultdict(set)
        for claim in related[("claims", pid)]:
            claims[claim["field"]].add(claim["value"])
        jurisdiction = {"slug": p["j_slug"], "name": p["j_name"], "level": p["j_level"], "country": p["j_country"]}
        out.append(
            {
                "id": pid,
                "jurisdiction_id": p["jurisdiction_id"],
                "slug": p["slug"],
                "name": p["name"],
                "region": {"slug": p["r_slug"], "name": p["r_name"]},
                "jurisdiction": jurisdiction,
                **{rel: related[(rel, pid)] for rel in ("ngos", "police_departments", "focus_areas")},
                **{key: p[key] for key in OWN_BEFORE},
                "formalisation": p["formalisation"],
                "data_sharing": p["data_sharing"],
                "surveillance_practices": related[("surveillance_practices", pid)],
                "verification_status": p["verification_status"],
                "disputed_fields": sorted(field for field, values in claims.items() if len(values) > 1),
                "dispute_resolutions": related[("dispute_resolutions", pid)],
                "sources": related[("sources", pid)],
                "claims": related[("claims", pid)],
                **{key: p[key] for key in OWN_AFTER},
            }
        )
    return out


def page(environ: dict[str, Any], where: str, params: dict[str, Any], order: str) -> bytes:
    """One page of the list, with a next link when more rows follow."""
    rows = partnerships(where, params, order, PAGE + 1)
    more = len(rows) > PAGE
    after = f"http://{environ.get('HTTP_HOST', '')}{environ['PATH_INFO']}?after={rows[-2]['slug']}" if more else None
    for row in rows:
        del row["id"], row["jurisdiction_id"]
    return orjson.dumps({"next": after, "previous": None, "results": rows[:PAGE]}, option=orjson.OPT_UTC_Z)


def export(environ: dict[str, Any], params: dict[str, Any]) -> Iterator[bytes]:
    """The COPY output in pieces of about 64 kB; a connection left mid-COPY (client gone) is dropped."""
    global _connection
    params["permalink"] = f"http://{environ.get('HTTP_HOST', '')}/detail/"
    buffer = bytearray()
    try:
        where = " AND ".join(sql for name, sql in EXPORT_FILTERS.items() if name in params) or "true"
        with db().cursor().copy(EXPORT.replace("__WHERE__", where), params) as copy:
            for data in copy:
                buffer += data
                if len(buffer) >= 65536:
                    yield bytes(buffer)
                    buffer.clear()
        yield bytes(buffer)
    except BaseException:
        if _connection is not None:
            _connection.close()
        _connection = None
        raise


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path, args = environ["PATH_INFO"], dict(parse_qsl(environ.get("QUERY_STRING", "")))
    body: bytes | None = None
    if path == "/hello":
        body = b'{"hello":"world"}'
    elif path.startswith("/detail/"):
        found = partnerships("p.slug = %(slug)s", {"slug": path.removeprefix("/detail/")}, "p.slug", 1)
        if found:
            record = found[0]
            record["accountability_checklist"] = db().execute(CHECKLIST, [record.pop("id")]).fetchall()
            record["applicable_law"] = db().execute(LAW, [record.pop("jurisdiction_id")]).fetchall()
            body = orjson.dumps(record, option=orjson.OPT_UTC_Z)
    elif path == "/list":
        # ?after=<slug>: the page after that row (the keyset cursor of the API's deep pages).
        body = page(environ, "p.slug > %(after)s" if "after" in args else "true", args, "p.slug")
    elif path == "/list-filtered":
        body = page(environ, FILTERED, args, "p.slug")
    elif path == "/search" and args.get("q"):
        matching = BY_VECTOR if OPERATORS.search(args["q"]) else f"{BY_VECTOR} {BY_NAMES}"
        body = page(environ, f"p.id IN ({matching})", args, f"{RANK} DESC, p.slug")
    elif path == "/export.csv":
        start_response("200 OK", [("Content-Type", "text/csv; charset=utf-8; header=present")])
        return export(environ, args)
    if body is None:
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"errors":[{"code":"not_found"}]}']
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
