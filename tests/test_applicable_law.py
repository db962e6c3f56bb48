"""A partnership's applicable law is derived from its jurisdiction's chain and the dates, never typed in."""

import datetime

import pytest

from geography.models import Jurisdiction, JurisdictionLevel
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain():
    world = Jurisdiction.objects.create(
        slug="international", name="International", level=JurisdictionLevel.INTERNATIONAL
    )
    eu = Jurisdiction.objects.create(
        slug="eu", name="European Union", level=JurisdictionLevel.SUPRANATIONAL, parent=world
    )
    france = factories.JurisdictionFactory(slug="france", name="France", parent=eu, country__code="FR")
    paris = Jurisdiction.objects.create(
        slug="paris", name="Paris", level=JurisdictionLevel.CITY, parent=france, country=france.country
    )
    other = factories.JurisdictionFactory(slug="usa", name="United States", parent=world, country__code="US")
    return world, eu, france, paris, other


def test_ancestors_run_from_the_jurisdiction_to_the_root(chain):
    world, eu, france, paris, _ = chain
    assert paris.ancestors() == [paris, france, eu, world]
    assert paris.ancestors(include_self=False) == [france, eu, world]
    assert set(Jurisdiction.objects.descendants_of(eu)) == {eu, france, paris}


def test_applicable_law_comes_from_every_level_above_and_respects_dates(chain):
    world, eu, france, paris, other = chain
    gdpr = factories.LegalInstrumentFactory(
        short_name="GDPR", jurisdiction=eu, in_force_from=datetime.date(2018, 5, 25)
    )
    old = factories.LegalInstrumentFactory(
        short_name="DPD",
        jurisdiction=eu,
        in_force_from=datetime.date(1998, 10, 24),
        in_force_to=datetime.date(2018, 5, 24),
    )
    un = factories.LegalInstrumentFactory(short_name="UN report", jurisdiction=world, year=2022, in_force_from=None)
    factories.LegalInstrumentFactory(short_name="CCPA", jurisdiction=other)
    unpublished = factories.LegalInstrumentFactory(short_name="Draft", jurisdiction=france, is_published=False)
    partnership = factories.PartnershipFactory(jurisdiction=paris)

    assert set(partnership.applicable_law(on=datetime.date(2024, 1, 1))) == {gdpr, un}
    assert set(partnership.applicable_law(on=datetime.date(2010, 1, 1))) == {old}
    assert unpublished not in partnership.applicable_law()
