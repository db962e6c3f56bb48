"""The registry's shipped data: ``fixtures/registry.yaml`` and its loader.

``shipped_data_load`` reads the file, validates all of it before writing anything (every problem is
reported with its section, record and field), then writes everything in one transaction through the
provenance services, inside ``command_context("load_shipped_data")`` so every history event says where it
came from. Loading is idempotent: rows are saved only when a value differs, so a second run writes nothing
and adds no history event. Verification status is never read from the file: it is derived from sources
and claims once everything is written.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction
from tqdm import tqdm

from cases.models import CaseQuote, IssueType, OverreachCase
from geography.models import Country, Jurisdiction, Region
from legal.models import LegalInstrument, LegalTopic, OversightBody
from partnerships.models import (
    NGO,
    AccountabilityMechanism,
    AssessmentStatus,
    Challenge,
    FocusArea,
    MechanismAssessment,
    Objective,
    Partnership,
    PoliceDepartment,
    StakeholderGroup,
    SurveillancePractice,
)
from provenance.models import CLAIMABLE_FIELDS, Claim, PublicRecord, Source
from provenance.services import claim_add, m2m_set, record_upsert, record_verification_refresh
from registry.constraints import SLUG_PATTERN
from registry.history import command_context

COMMAND_NAME = "load_shipped_data"

# Sections of the file, in the order they are written: a record may refer to records of the same section
# (listed before it) or of an earlier one.
SECTIONS: dict[str, type[models.Model]] = {
    "sources": Source,
    "regions": Region,
    "countries": Country,
    "jurisdictions": Jurisdiction,
    "focus_areas": FocusArea,
    "legal_topics": LegalTopic,
    "issue_types": IssueType,
    "ngos": NGO,
    "police_departments": PoliceDepartment,
    "surveillance_practices": SurveillancePractice,
    "accountability_mechanisms": AccountabilityMechanism,
    "objectives": Objective,
    "challenges": Challenge,
    "stakeholder_groups": StakeholderGroup,
    "legal_instruments": LegalInstrument,
    "oversight_bodies": OversightBody,
    "partnerships": Partnership,
    "overreach_cases": OverreachCase,
}
SECTION_OF_MODEL: dict[type[models.Model], str] = {model: name for name, model in SECTIONS.items()}

# Never typed by editors: derived (verification status), automatic (timestamps) or not shipped (synthetic).
NOT_IN_FILE = {"id", "verification_status", "created_at", "updated_at", "is_synthetic"}
NESTED: dict[str, str] = {"partnerships": "assessments", "overreach_cases": "quotes"}
CLAIM_KEYS = {"field", "value", "source", "locator", "quote", "note"}
ASSESSMENT_KEYS = {"mechanism", "status", "evidence", "note"}
QUOTE_KEYS = {"text", "speaker", "source"}
_SLUG_RE = re.compile(SLUG_PATTERN)
_SCALARS = (str, int, float, bool, datetime.date)


class ShippedDataError(Exception):
    """The shipped-data file is invalid (nothing was written). ``problems`` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"The shipped data is invalid ({len(problems)} problem(s)); nothing was written:\n{listing}")


@dataclass
class ModelCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class LoadReport:
    """What a load did (or, in a dry run, would do), per model."""

    path: Path
    dry_run: bool = False
    counts: dict[str, ModelCounts] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)

    def count(self, label: str) -> ModelCounts:
        return self.counts.setdefault(label, ModelCounts())

    @property
    def changed(self) -> int:
        return sum(c.created + c.updated for c in self.counts.values())

    def lines(self) -> list[str]:
        width = max([len(label) for label in self.counts] + [5])
        out = [f"{'model':<{width}}  created  updated  unchanged"]
        for label, c in self.counts.items():
            out.append(f"{label:<{width}}  {c.created:>7}  {c.updated:>7}  {c.unchanged:>9}")
        statuses = ", ".join(f"{status} {n}" for status, n in sorted(self.statuses.items()))
        out.append(f"Verification status of public records: {statuses}")
        return out


# --- Validation: the whole file, before anything is written --------------------------------------------


@dataclass
class ClaimSpec:
    field: str
    value: str
    source: str
    locator: str = ""
    quote: str = ""
    note: str = ""


@dataclass
class PlannedRecord:
    section: str
    key: str
    values: dict[str, Any]
    fks: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    m2ms: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    claims: list[ClaimSpec] = field(default_factory=list)
    nested: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.section}[{self.key}]"


class _Problems(list[str]):
    def add(self, where: str, message: str) -> None:
        self.append(f"{where}: {message}")


def _plain_fields(model: type[models.Model]) -> dict[str, models.Field[Any, Any]]:
    return {
        f.name: f
        for f in model._meta.concrete_fields
        if f.editable and not f.primary_key and not f.is_relation and f.name not in NOT_IN_FILE and f.name != "slug"
    }


def _relation_fields(model: type[models.Model]) -> tuple[dict[str, Any], dict[str, Any]]:
    fks = {f.name: f for f in model._meta.concrete_fields if f.is_relation and f.many_to_one}
    m2ms = {f.name: f for f in model._meta.many_to_many if f.name != "sources"}
    return fks, m2ms


def _is_public(model: type[models.Model]) -> bool:
    return issubclass(model, PublicRecord)


def _text(value: Any) -> str | None:
    """A claim or quote value as text: strings as they are, numbers as digits, anything else refused."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip()


def _allowed_keys(section: str, model: type[models.Model]) -> set[str]:
    fks, m2ms = _relation_fields(model)
    keys = {"slug", *_plain_fields(model), *fks, *m2ms}
    if _is_public(model):
        keys.add("sources")
        if model.claim_target:  # type: ignore[attr-defined]
            keys.add("claims")
    if section in NESTED:
        keys.add(NESTED[section])
    return keys


def _validate(document: Any) -> list[PlannedRecord]:
    problems = _Problems()
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ShippedDataError(["the file must be a mapping of sections (sources:, regions:, ...)"])
    for name in document:
        if name not in SECTIONS:
            problems.add(str(name), f"unknown section; sections are {', '.join(SECTIONS)}")

    # First pass: the keys of every section, so references can be checked in any direction.
    keys: dict[str, list[str]] = {}
    for section in SECTIONS:
        entries = document.get(section) or []
        if not isinstance(entries, list):
            problems.add(section, "must be a list of records")
            entries = []
        seen: list[str] = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                problems.add(f"{section}[{index}]", "must be a mapping of fields")
                continue
            slug = entry.get("slug")
            if not isinstance(slug, str) or not _SLUG_RE.match(slug):
                problems.add(f"{section}[{index}].slug", f"missing or not a lowercase-hyphen slug: {slug!r}")
                continue
            if slug in seen:
                problems.add(f"{section}[{slug}]", "duplicate slug in this section")
            seen.append(slug)
        keys[section] = seen

    planned: list[PlannedRecord] = []
    for section, model in SECTIONS.items():
        for index, entry in enumerate(document.get(section) or []):
            if not isinstance(entry, dict) or not _SLUG_RE.match(str(entry.get("slug"))):
                continue  # already reported: without a slug the record cannot be named
            record = _validate_record(section, model, index, entry, keys, problems)
            if record is not None:
                planned.append(record)
    if problems:
        raise ShippedDataError(problems)
    return planned


def _reference(
    problems: _Problems, where: str, target_section: str, slug: Any, keys: dict[str, list[str]], *, before: int | None
) -> bool:
    """Check that ``slug`` names a record of ``target_section`` (listed before index ``before``, if given)."""
    known = keys.get(target_section, [])
    if not isinstance(slug, str) or slug not in known:
        problems.add(where, f"unknown {target_section} slug {slug!r}")
        return False
    if before is not None and known.index(slug) >= before:
        problems.add(where, f"{target_section} slug {slug!r} must be listed before the record that refers to it")
        return False
    return True


def _validate_record(
    section: str,
    model: type[models.Model],
    index: int,
    entry: dict[str, Any],
    keys: dict[str, list[str]],
    problems: _Problems,
) -> PlannedRecord | None:
    slug: str = entry["slug"]
    where = f"{section}[{slug}]"
    count_before = len(problems)
    allowed = _allowed_keys(section, model)
    for key in entry:
        if key not in allowed:
            problems.add(f"{where}.{key}", f"unknown field; allowed: {', '.join(sorted(allowed))}")

    plain = _plain_fields(model)
    fks, m2ms = _relation_fields(model)
    public = _is_public(model)
    record = PlannedRecord(section=section, key=slug, values={})

    # Plain fields: let the model's own field validation speak (types, choices, lengths, URLs, ISO codes).
    given: dict[str, Any] = {}
    for name, model_field in plain.items():
        if name not in entry:
            continue
        value = entry[name]
        if isinstance(model_field, ArrayField):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.add(f"{where}.{name}", "must be a list of strings")
                continue
        elif value is not None and not isinstance(value, _SCALARS):
            problems.add(f"{where}.{name}", "must be a single value, not a list or mapping")
            continue
        given[name] = value
    if public and "is_published" not in given:
        given["is_published"] = True  # shipped public records are published unless the file says otherwise
    if "position" in plain and "position" not in given:
        given["position"] = index + 1  # reference-table rows keep the file's order
    instance = model(slug=slug, **given)
    excluded = [f.name for f in model._meta.fields if f.name not in plain and f.name != "slug"]
    try:
        instance.clean_fields(exclude=excluded)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            if name in entry:
                problems.add(f"{where}.{name}", f"{' '.join(messages)} (got {entry[name]!r})")
            else:
                problems.add(f"{where}.{name}", "missing required field")
    record.values = {name: getattr(instance, name) for name in plain}

    # Foreign keys: a slug of an earlier section (or of an earlier record of the same one).
    for name, model_field in fks.items():
        target = SECTION_OF_MODEL[model_field.related_model]
        value = entry.get(name)
        if value is None:
            if not model_field.null:
                problems.add(f"{where}.{name}", f"missing required field (a {target} slug)")
            record.fks[name] = (target, None)
            continue
        before = index if target == section else None
        if _reference(problems, f"{where}.{name}", target, value, keys, before=before):
            record.fks[name] = (target, value)

    # Many-to-many relations: lists of slugs.
    for name, model_field in m2ms.items():
        target = SECTION_OF_MODEL[model_field.related_model]
        values = entry.get(name, [])
        if not isinstance(values, list):
            problems.add(f"{where}.{name}", f"must be a list of {target} slugs")
            continue
        if len(set(map(str, values))) != len(values):
            problems.add(f"{where}.{name}", "lists a slug twice")
        ok = [v for v in values if _reference(problems, f"{where}.{name}", target, v, keys, before=None)]
        record.m2ms[name] = (target, ok)

    if public:
        _validate_sources(record, entry, keys, problems)
        if model.claim_target:  # type: ignore[attr-defined]
            _validate_claims(record, model, entry, keys, problems)
    if section == "partnerships":
        _validate_assessments(record, entry, keys, problems)
    if section == "overreach_cases":
        _validate_quotes(record, entry, keys, problems)
    return record if len(problems) == count_before else None


def _validate_sources(
    record: PlannedRecord, entry: dict[str, Any], keys: dict[str, list[str]], problems: _Problems
) -> None:
    where = f"{record.name}.sources"
    sources = entry.get("sources")
    if not isinstance(sources, list) or not sources:
        problems.add(where, "every public record needs at least one source (a list of source slugs)")
        return
    if len(set(map(str, sources))) != len(sources):
        problems.add(where, "lists a source twice")
    record.sources = [s for s in sources if _reference(problems, where, "sources", s, keys, before=None)]


def _validate_claims(
    record: PlannedRecord,
    model: type[models.Model],
    entry: dict[str, Any],
    keys: dict[str, list[str]],
    problems: _Problems,
) -> None:
    claims = entry.get("claims", [])
    if not isinstance(claims, list):
        problems.add(f"{record.name}.claims", "must be a list")
        return
    claimable = CLAIMABLE_FIELDS[model.claim_target]  # type: ignore[attr-defined]
    seen: set[tuple[str, str, str, str]] = set()
    for position, claim in enumerate(claims):
        where = f"{record.name}.claims[{position}]"
        if not isinstance(claim, dict):
            problems.add(where, "must be a mapping (field, value, source, locator, quote, note)")
            continue
        for key in claim:
            if key not in CLAIM_KEYS:
                problems.add(f"{where}.{key}", f"unknown key; allowed: {', '.join(sorted(CLAIM_KEYS))}")
        for key in ("field", "value", "source"):
            if key not in claim:
                problems.add(f"{where}.{key}", "missing required key")
        if "field" in claim and claim["field"] not in claimable:
            problems.add(f"{where}.field", f"{claim['field']!r} cannot carry claims; claimable: {', '.join(claimable)}")
        value = _text(claim.get("value"))
        if "value" in claim and not value:
            problems.add(f"{where}.value", "must be non-empty text or a number")
        if "source" in claim:
            _reference(problems, f"{where}.source", "sources", claim["source"], keys, before=None)
        texts = {k: claim.get(k, "") for k in ("locator", "quote", "note")}
        for key, text in texts.items():
            if not isinstance(text, str):
                problems.add(f"{where}.{key}", "must be text")
        if len(str(texts["locator"])) > Claim._meta.get_field("locator").max_length:  # type: ignore[operator]
            problems.add(f"{where}.locator", "is too long")
        identity = (str(claim.get("field")), str(value), str(claim.get("source")), str(texts["locator"]))
        if identity in seen:
            problems.add(where, "repeats an earlier claim (same field, value, source and locator)")
        seen.add(identity)
        if value and isinstance(claim.get("field"), str) and isinstance(claim.get("source"), str):
            record.claims.append(
                ClaimSpec(
                    field=claim["field"],
                    value=value,
                    source=claim["source"],
                    locator=str(texts["locator"]).strip(),
                    quote=str(texts["quote"]).strip(),
                    note=str(texts["note"]).strip(),
                )
            )


def _validate_assessments(
    record: PlannedRecord, entry: dict[str, Any], keys: dict[str, list[str]], problems: _Problems
) -> None:
    assessments = entry.get("assessments", [])
    if not isinstance(assessments, list):
        problems.add(f"{record.name}.assessments", "must be a list")
        return
    mechanisms: set[str] = set()
    for position, item in enumerate(assessments):
        where = f"{record.name}.assessments[{position}]"
        if not isinstance(item, dict):
            problems.add(where, "must be a mapping (mechanism, status, evidence, note)")
            continue
        for key in item:
            if key not in ASSESSMENT_KEYS:
                problems.add(f"{where}.{key}", f"unknown key; allowed: {', '.join(sorted(ASSESSMENT_KEYS))}")
        _reference(
            problems, f"{where}.mechanism", "accountability_mechanisms", item.get("mechanism"), keys, before=None
        )
        if item.get("mechanism") in mechanisms:
            problems.add(f"{where}.mechanism", "assessed twice")
        mechanisms.add(str(item.get("mechanism")))
        status = item.get("status", AssessmentStatus.UNKNOWN)
        if status not in AssessmentStatus.values:
            problems.add(f"{where}.status", f"{status!r} is not one of {', '.join(AssessmentStatus.values)}")
        evidence = item.get("evidence")
        if evidence is None and status != AssessmentStatus.UNKNOWN:
            problems.add(f"{where}.evidence", "present or absent needs evidence (a source slug)")
        elif evidence is not None:
            _reference(problems, f"{where}.evidence", "sources", evidence, keys, before=None)
        if not isinstance(item.get("note", ""), str):
            problems.add(f"{where}.note", "must be text")
        record.nested.append(
            {"mechanism": item.get("mechanism"), "status": status, "evidence": evidence, "note": item.get("note", "")}
        )


def _validate_quotes(
    record: PlannedRecord, entry: dict[str, Any], keys: dict[str, list[str]], problems: _Problems
) -> None:
    quotes = entry.get("quotes", [])
    if not isinstance(quotes, list):
        problems.add(f"{record.name}.quotes", "must be a list")
        return
    texts: set[str] = set()
    for position, item in enumerate(quotes):
        where = f"{record.name}.quotes[{position}]"
        if not isinstance(item, dict):
            problems.add(where, "must be a mapping (text, speaker, source)")
            continue
        for key in item:
            if key not in QUOTE_KEYS:
                problems.add(f"{where}.{key}", f"unknown key; allowed: {', '.join(sorted(QUOTE_KEYS))}")
        for key in ("text", "speaker"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                problems.add(f"{where}.{key}", "missing or empty")
        _reference(problems, f"{where}.source", "sources", item.get("source"), keys, before=None)
        text = str(item.get("text", "")).strip()
        if text in texts:
            problems.add(f"{where}.text", "repeats an earlier quote")
        texts.add(text)
        record.nested.append(
            {
                "text": text,
                "speaker": str(item.get("speaker", "")).strip(),
                "source": item.get("source"),
                "position": position + 1,
            }
        )


# --- Writing: one transaction, through the provenance services -----------------------------------------


class _Writer:
    def __init__(self, report: LoadReport) -> None:
        self.report = report
        self.objects: dict[str, dict[str, models.Model]] = {name: {} for name in SECTIONS}
        # Per record: was it created, or did anything about it change? (settled after the status refresh)
        self.state: dict[tuple[type[models.Model], int], str] = {}

    def resolve(self, section: str, slug: str) -> models.Model:
        return self.objects[section][slug]

    def write(self, record: PlannedRecord) -> None:
        model = SECTIONS[record.section]
        values = dict(record.values)
        for name, (target, slug) in record.fks.items():
            values[name] = self.resolve(target, slug) if slug else None
        lookup: dict[str, Any] = {"slug": record.key}
        if model is Country:
            # A country's natural key is its ISO code: a row made by another path (the synthetic generator)
            # is adopted, not duplicated.
            lookup, values = {"code": values["code"]}, {**values, "slug": record.key}
            del values["code"]
        existed = model._default_manager.filter(**lookup).exists()
        obj, changed = record_upsert(model=model, lookup=lookup, values=values)
        for name, (target, slugs) in record.m2ms.items():
            changed |= m2m_set(obj=obj, field=name, targets=[self.resolve(target, s) for s in slugs])
        if isinstance(obj, PublicRecord):
            changed |= m2m_set(obj=obj, field="sources", targets=[self.resolve("sources", s) for s in record.sources])
            for claim in record.claims:
                self.write_claim(obj, claim)
        if record.section == "partnerships":
            for item in record.nested:
                self.write_assessment(obj, item)
        if record.section == "overreach_cases":
            for item in record.nested:
                self.write_quote(obj, item)
        self.objects[record.section][record.key] = obj
        self.state[(model, obj.pk)] = "created" if not existed else ("updated" if changed else "unchanged")

    def write_claim(self, record: PublicRecord, spec: ClaimSpec) -> None:
        source = self.resolve("sources", spec.source)
        lookup = {type(record).claim_target: record, "field": spec.field, "value": spec.value, "source": source}
        before = Claim.objects.filter(**lookup, locator=spec.locator).first()
        claim_add(
            record=record,
            field=spec.field,
            value=spec.value,
            source=source,  # type: ignore[arg-type]
            locator=spec.locator,
            quote=spec.quote,
            note=spec.note,
            refresh_status=False,
        )
        counts = self.report.count(Claim._meta.label)
        if before is None:
            counts.created += 1
        elif (before.quote, before.note) != (spec.quote, spec.note):
            counts.updated += 1
        else:
            counts.unchanged += 1

    def write_assessment(self, partnership: models.Model, item: Mapping[str, Any]) -> None:
        mechanism = self.resolve("accountability_mechanisms", item["mechanism"])
        evidence = self.resolve("sources", item["evidence"]) if item["evidence"] else None
        self._nested(
            MechanismAssessment,
            lookup={"partnership": partnership, "mechanism": mechanism},
            values={"status": item["status"], "evidence": evidence, "note": item["note"]},
        )

    def write_quote(self, case: models.Model, item: Mapping[str, Any]) -> None:
        self._nested(
            CaseQuote,
            lookup={"case": case, "text": item["text"]},
            values={
                "speaker": item["speaker"],
                "source": self.resolve("sources", item["source"]),
                "position": item["position"],
            },
        )

    def _nested(self, model: type[models.Model], *, lookup: dict[str, Any], values: dict[str, Any]) -> None:
        existed = model._default_manager.filter(**lookup).exists()
        _, changed = record_upsert(model=model, lookup=lookup, values=values)
        counts = self.report.count(model._meta.label)
        if not existed:
            counts.created += 1
        elif changed:
            counts.updated += 1
        else:
            counts.unchanged += 1

    def public_records(self) -> Iterator[PublicRecord]:
        for objects in self.objects.values():
            for obj in objects.values():
                if isinstance(obj, PublicRecord):
                    yield obj

    def refresh_statuses(self, progress: Iterable[PublicRecord]) -> None:
        for record in progress:
            before = record.verification_status
            status = record_verification_refresh(record=record)
            self.report.statuses[status] += 1
            key = (type(record), record.pk)
            if status != before and self.state[key] == "unchanged":
                self.state[key] = "updated"

    def settle_counts(self) -> None:
        for (model, _pk), state in self.state.items():
            counts = self.report.count(model._meta.label)
            setattr(counts, state, getattr(counts, state) + 1)


class _DryRunRollback(Exception):
    """Raised at the end of a dry run to roll the whole transaction back."""


@contextmanager
def _progress(total: int, desc: str, stream: TextIO | None) -> Iterator[tqdm[Any]]:
    bar = tqdm(total=total, desc=desc, unit="record", file=stream, disable=stream is None, leave=False)
    try:
        yield bar
    finally:
        bar.close()


def shipped_data_read(*, path: Path) -> list[PlannedRecord]:
    """Parse and validate the file; raise ShippedDataError listing every problem. Writes nothing."""
    try:
        with path.open(encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except OSError as exc:
        raise ShippedDataError([f"{path}: cannot be read ({exc.strerror})"]) from exc
    except yaml.YAMLError as exc:
        raise ShippedDataError([f"{path}: not valid YAML ({exc})"]) from exc
    return _validate(document)


def shipped_data_load(*, path: Path, stdout: TextIO | None = None, dry_run: bool = False) -> LoadReport:
    """Validate the whole file, then write it in one transaction (rolled back if ``dry_run``).

    ``stdout``, when given, receives progress bars. Returns what was (or would be) created, updated and
    left unchanged, per model, and the verification status of every public record afterwards."""
    planned = shipped_data_read(path=path)
    report = LoadReport(path=path, dry_run=dry_run)
    writer = _Writer(report)
    try:
        with command_context(COMMAND_NAME), transaction.atomic():
            with _progress(len(planned), "Writing records", stdout) as bar:
                for record in planned:
                    try:
                        writer.write(record)
                    except (ValidationError, DatabaseError) as exc:
                        raise ShippedDataError([f"{record.name}: {_describe(exc)}"]) from exc
                    bar.update(1)
            records = list(writer.public_records())
            with _progress(len(records), "Deriving verification status", stdout) as bar:
                writer.refresh_statuses(_ticking(records, bar))
            writer.settle_counts()
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    report.counts = dict(sorted(report.counts.items()))
    return report


def _ticking(items: list[PublicRecord], bar: tqdm[Any]) -> Iterator[PublicRecord]:
    for item in items:
        yield item
        bar.update(1)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return str(exc).strip()
