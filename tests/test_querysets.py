"""The named querysets pages and the API are built on: what a journalist's filter would return."""

import pytest

from partnerships.models import AssessmentStatus, DataSharing, Partnership
from provenance.models import VerificationStatus
from provenance.services import claim_add
from tests import factories

pytestmark = pytest.mark.django_db


def test_public_hides_unpublished_records():
    shown = factories.PartnershipFactory()
    factories.PartnershipFactory(is_published=False)
    assert list(Partnership.objects.public()) == [shown]


def test_in_region_and_in_country():
    europe = factories.RegionFactory(slug="europe", name="Europe")
    uk = factories.JurisdictionFactory(country__code="GB", country__region=europe)
    london = factories.PartnershipFactory(region=europe, jurisdiction=uk)
    factories.PartnershipFactory()
    assert list(Partnership.objects.public().in_region("europe")) == [london]
    assert list(Partnership.objects.in_region(europe)) == [london]
    assert list(Partnership.objects.in_country("GB")) == [london]
    assert list(Partnership.objects.in_country(uk.country)) == [london]


def test_disputed_means_claims_on_one_field_disagree():
    p = factories.PartnershipFactory()
    table_1, table_2 = factories.SourceFactory(), factories.SourceFactory()
    claim_add(record=p, field="year_established", value="2016", source=table_1, locator="Table 1")
    assert not Partnership.objects.disputed().exists()
    # The same value again from a second source corroborates rather than disputes.
    claim_add(record=p, field="year_established", value="2016", source=table_2, locator="Table 2")
    p.refresh_from_db()
    assert p.verification_status == VerificationStatus.CORROBORATED
    claim_add(record=p, field="year_established", value="2001", source=table_2, locator="Table 3")
    p.refresh_from_db()
    assert list(Partnership.objects.disputed()) == [p]
    assert list(Partnership.objects.undisputed()) == []
    assert p.disputed_fields() == ["year_established"]
    assert p.verification_status == VerificationStatus.DISPUTED


def test_claim_add_is_idempotent():
    p = factories.PartnershipFactory()
    source = factories.SourceFactory()
    first = claim_add(record=p, field="year_established", value="2016", source=source, locator="Table 1")
    again = claim_add(record=p, field="year_established", value="2016", source=source, locator="Table 1")
    assert first.pk == again.pk
    assert p.claims.count() == 1


def test_lacking_a_mechanism_includes_absent_and_unassessed():
    oversight = factories.AccountabilityMechanismFactory(slug="independent-oversight")
    with_oversight = factories.PartnershipFactory(data_sharing=DataSharing.SHARED_DATABASE)
    factories.MechanismAssessmentFactory(partnership=with_oversight, mechanism=oversight)
    absent = factories.PartnershipFactory(data_sharing=DataSharing.REAL_TIME)
    factories.MechanismAssessmentFactory(partnership=absent, mechanism=oversight, status=AssessmentStatus.ABSENT)
    unassessed = factories.PartnershipFactory(data_sharing=DataSharing.REFERRALS)

    lacking = Partnership.objects.public().lacking("independent-oversight")
    assert set(lacking) == {absent, unassessed}
    # "Which partnerships share data with police and have no independent oversight?"
    assert list(lacking.sharing_data_with_police()) == [absent]
    assert list(Partnership.objects.with_mechanism(oversight, AssessmentStatus.PRESENT)) == [with_oversight]
    assert set(Partnership.objects.with_mechanism(oversight, AssessmentStatus.UNKNOWN)) == {unassessed}


def test_with_related_loads_a_list_in_a_fixed_number_of_queries(django_assert_num_queries):
    for _ in range(4):
        factories.PartnershipFactory(focus_areas=[factories.FocusAreaFactory()])
    # 1 partnerships (joined with region, jurisdiction, country) + 4 prefetches (ngos, police, focus, practices)
    # + 1 sources
    with django_assert_num_queries(6):
        rows = list(Partnership.objects.public().with_related().with_sources())
        for p in rows:
            _ = [p.region.name, p.jurisdiction.country.name, *p.ngos.all(), *p.police_departments.all()]
            _ = [*p.focus_areas.all(), *p.surveillance_practices.all(), *p.sources.all()]


def test_established_between():
    old = factories.PartnershipFactory(year_established=1986)
    factories.PartnershipFactory(year_established=2019)
    assert list(Partnership.objects.established_between(1980, 1990)) == [old]


def test_status_follows_a_new_claim_even_on_a_record_with_prefetched_claims():
    p = factories.PartnershipFactory()
    claim_add(record=p, field="year_established", value="2016", source=factories.SourceFactory())
    prefetched = Partnership.objects.with_claims().with_sources().get(pk=p.pk)
    claim_add(record=prefetched, field="year_established", value="2001", source=factories.SourceFactory())
    p.refresh_from_db()
    assert p.verification_status == VerificationStatus.DISPUTED
