"""``manage.py generate_synthetic``: a deterministic, realistic synthetic data set for benchmarks that can never
be mistaken for real data, loads once, is replaced only on request, and never touches a real row."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pghistory.models
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from cases.models import CaseQuote, OverreachCase
from geography.models import Jurisdiction, JurisdictionLevel
from legal.models import LegalInstrument, OversightBody
from partnerships.models import NGO, FocusArea, MechanismAssessment, Partnership, PoliceDepartment
from provenance.models import Claim, Source, VerificationStatus
from provenance.services import derive_verification_status
from registry.synthetic import ROOT_SLUG, synthetic_plan
from tests import factories

pytestmark = pytest.mark.django_db

N = 200
RECORD_MODELS: list[Any] = [Partnership, NGO, PoliceDepartment, LegalInstrument, OversightBody, OverreachCase]


def generate(*args: str, partnerships: int = N) -> str:
    out = StringIO()
    call_command("generate_synthetic", "--partnerships", str(partnerships), "--no-progress", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[Any]]:
    """What a benchmark would see: slugs and values of records, sources, claims and links."""
    return {
        "partnerships": list(
            Partnership.objects.synthetic()
            .order_by("slug")
            .values_list(
                "slug",
                "name",
                "year_established",
                "status",
                "data_sharing",
                "verification_status",
                "jurisdiction__slug",
                "description",
            )
        ),
        "ngos": list(NGO.objects.synthetic().order_by("slug").values_list("slug", "name", "jurisdiction__slug")),
        "sources": list(Source.objects.filter(is_synthetic=True).order_by("slug").values_list("slug", "title")),
        "claims": sorted(
            Claim.objects.filter(partnership__is_synthetic=True).values_list(
                "partnership__slug", "field", "value", "source__slug", "locator"
            )
        ),
        "links": sorted(
            Partnership.ngos.through.objects.filter(partnership__is_synthetic=True).values_list(
                "partnership__slug", "ngo__slug"
            )
        ),
        "cases": list(OverreachCase.objects.synthetic().order_by("slug").values_list("slug", "year")),
    }


def test_writes_every_kind_of_record_in_proportion() -> None:
    output = generate()

    plan = synthetic_plan(partnerships=N)
    assert Partnership.objects.synthetic().count() == N
    assert NGO.objects.synthetic().count() == plan.ngos == N // 5
    assert PoliceDepartment.objects.synthetic().count() == plan.police_departments == N // 10
    assert Source.objects.filter(is_synthetic=True).count() == plan.sources == N // 2
    assert LegalInstrument.objects.synthetic().count() == plan.legal_instruments == 20
    assert OversightBody.objects.synthetic().count() == plan.oversight_bodies
    assert OverreachCase.objects.synthetic().count() == plan.overreach_cases == N // 20
    claims = Claim.objects.filter(partnership__is_synthetic=True).count()
    assert 1.8 * N <= claims <= 2.4 * N
    assessed = MechanismAssessment.objects.filter(partnership__is_synthetic=True)
    assert 0.1 * N <= assessed.values("partnership").distinct().count() <= 0.4 * N
    for field in ("ngos", "police_departments", "focus_areas", "sources"):
        links = getattr(Partnership, field).through.objects.filter(partnership__is_synthetic=True)
        assert links.values("partnership").distinct().count() == N, f"every partnership has {field}"
        assert N <= links.count() <= 2 * N, field
    assert CaseQuote.objects.filter(case__is_synthetic=True).exists()
    # The summary names each model with its row count.
    assert "partnerships.Partnership" in output
    assert f"{N:>12,}" in output


def test_jurisdictions_form_one_tree_of_their_own() -> None:
    generate()

    synthetic = Jurisdiction.objects.filter(slug__startswith="syn-")
    root = Jurisdiction.objects.get(slug=ROOT_SLUG)
    assert root.parent is None
    assert root.level == JurisdictionLevel.INTERNATIONAL
    assert set(Jurisdiction.objects.descendants_of(root).values_list("pk", flat=True)) == set(
        synthetic.values_list("pk", flat=True)
    )
    assert set(synthetic.values_list("level", flat=True)) == set(JurisdictionLevel.values)
    assert synthetic.get(slug="syn-gb").country.code == "GB"  # national level: real ISO countries
    # Partnerships sit in a national, subnational or city jurisdiction of the tree, in that country's region.
    for partnership in Partnership.objects.synthetic().select_related("jurisdiction__country")[:50]:
        assert partnership.jurisdiction.level in {"national", "subnational", "city"}
        assert partnership.region_id == partnership.jurisdiction.country.region_id


def test_everything_generated_is_labelled_synthetic() -> None:
    generate()

    for model in RECORD_MODELS:
        assert not model.objects.real().exists(), model
        assert not model.objects.exclude(slug__startswith="syn-").exists(), model
    sources = Source.objects.all()
    assert not sources.real().exists()
    assert all(s.publisher.startswith("Synthetic data generator") for s in sources)
    assert all(s.title.startswith("Synthetic ") for s in sources)
    assert all(".synthetic.invalid/" in s.url for s in sources)


def test_text_and_values_are_realistic_and_valid() -> None:
    generate()

    partnerships = Partnership.objects.synthetic()
    lengths = [len(p.description) for p in partnerships]
    assert min(lengths) >= 400
    assert max(lengths) <= 3500
    names = [len(p.name) for p in partnerships]
    assert 20 <= sum(names) / len(names) <= 80
    years = [p.year_established for p in partnerships if p.year_established]
    assert min(years) >= 1970
    assert max(years) <= 2100
    assert all(
        p.year_ended is None or (p.status == "ended" and p.year_ended >= p.year_established) for p in partnerships
    )
    assert partnerships.public().count() >= 0.9 * N  # most are published, a few are drafts


def test_some_partnerships_are_disputed_with_both_claims_sourced() -> None:
    generate()

    disputed = Partnership.objects.synthetic().disputed()
    assert 1 <= disputed.count() <= 0.15 * N
    assert set(disputed) == set(Partnership.objects.synthetic().with_status(VerificationStatus.DISPUTED))
    for partnership in disputed:
        claims = list(partnership.claims.filter(field="year_established"))
        assert len({c.value for c in claims}) == 2
        assert len({c.source_id for c in claims}) == 2
        assert str(partnership.year_established) in {c.value for c in claims}
        assert partnership.editorial_note


def test_verification_status_is_the_one_the_evidence_supports() -> None:
    generate()

    for model in (Partnership, NGO, LegalInstrument, OverreachCase):
        for record in model.objects.synthetic().order_by("slug")[:40]:
            assert record.verification_status == derive_verification_status(record=record), record.slug


def test_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    generate("--seed", "7")
    first = snapshot()

    generate("--seed", "7", "--replace")
    assert snapshot() == first

    generate("--seed", "8", "--replace")
    other = snapshot()
    assert other["partnerships"] != first["partnerships"]
    assert other["claims"] != first["claims"]


def index_definitions() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        return dict(cursor.fetchall())


def test_a_load_with_deferred_indexes_gives_the_same_data_and_every_index_back() -> None:
    """Big loads build the secondary indexes after the rows (faster): the data is the same, and the indexes are
    all there again, defined as before, and used by the search."""
    generate("--seed", "7", "--no-defer-indexes")
    first = snapshot()
    indexes = index_definitions()

    out = generate("--seed", "7", "--replace", "--defer-indexes", "-v", "2")
    assert snapshot() == first
    assert index_definitions() == indexes
    assert "build indexes" in out
    assert Partnership.objects.filter(name__trigram_similar=first["partnerships"][0][1]).exists()


def test_refuses_to_load_twice_without_replace() -> None:
    generate()
    before = snapshot()

    with pytest.raises(CommandError, match=r"already loaded .*--replace"):
        generate()
    assert snapshot() == before


def test_replace_deletes_only_synthetic_rows_and_reuses_taxonomies() -> None:
    focus = factories.FocusAreaFactory(name="Domestic Violence", slug="domestic-violence")
    real = factories.PartnershipFactory(focus_areas=[focus])
    real_law = factories.LegalInstrumentFactory(jurisdiction=real.jurisdiction)
    real_claim = factories.ClaimFactory(partnership=real)
    real_state = (real.updated_at, list(real.sources.all()), list(real.ngos.all()), real.name)
    real_events = Partnership.pgh_event_model.objects.filter(pgh_obj_id=real.pk).count()
    generate()
    assert FocusArea.objects.filter(name="Domestic Violence").count() == 1  # reused, not duplicated
    assert Partnership.objects.synthetic().filter(focus_areas=focus).exists()

    generate("--replace", partnerships=0)

    real.refresh_from_db()
    assert (real.updated_at, list(real.sources.all()), list(real.ngos.all()), real.name) == real_state
    assert Claim.objects.filter(pk=real_claim.pk).exists()
    assert list(real.applicable_law()) == [real_law]
    assert Partnership.pgh_event_model.objects.filter(pgh_obj_id=real.pk).count() == real_events
    assert FocusArea.objects.filter(pk=focus.pk).exists()
    for model in RECORD_MODELS:
        assert not model.objects.synthetic().exists(), model
    assert not Source.objects.filter(is_synthetic=True).exists()
    assert not Jurisdiction.objects.filter(slug__startswith="syn-").exists()


def test_replace_refuses_when_a_real_record_cites_synthetic_data() -> None:
    generate()
    real = factories.PartnershipFactory()
    real.sources.add(Source.objects.filter(is_synthetic=True).first())

    with pytest.raises(CommandError, match="real records still refer to it; nothing was changed"):
        generate("--replace")
    assert Partnership.objects.synthetic().count() == N


def test_loads_without_per_row_history_but_records_one_context() -> None:
    generate("--seed", "3")

    bulk = [*RECORD_MODELS, Source, Claim, MechanismAssessment, CaseQuote, Jurisdiction]
    tables = {m._meta.db_table for m in bulk}
    tables |= {m2m.remote_field.through._meta.db_table for m in RECORD_MODELS for m2m in m._meta.many_to_many}
    checked = 0
    for model in apps.get_models(include_auto_created=True):
        tracked = getattr(model, "pgh_tracked_model", None) if issubclass(model, pghistory.models.Event) else None
        if tracked is not None and tracked._meta.db_table in tables:
            assert not model.objects.exists(), model
            checked += 1
    assert checked >= len(tables)
    context = pghistory.models.Context.objects.get(metadata__command="generate_synthetic")
    assert context.metadata["partnerships"] == N
    assert context.metadata["seed"] == 3
    assert context.metadata["synthetic"] is True
    assert context.metadata["rows"]["partnerships.Partnership"] == N


def test_shipped_data_loads_after_synthetic_data(db) -> None:
    """Countries are matched by ISO code, so the generator and the loader can run in either order."""
    from django.conf import settings

    from geography.models import Country
    from registry.shipped_data import shipped_data_load

    call_command("generate_synthetic", partnerships=50, seed=3, stdout=StringIO())
    countries = Country.objects.count()
    shipped_data_load(path=settings.REGISTRY_DATA_PATH)
    assert Country.objects.filter(code="GB").count() == 1
    assert Country.objects.count() >= countries
