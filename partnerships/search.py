"""Full-text search of partnerships (``?q=``).

A partnership matches when any of these holds:

- its stored ``search_vector`` (name, weight A; focus, objective and description, weight B; accents removed;
  computed by a database trigger, see Partnership.Meta.triggers) matches the web-search query;
- its name is a near miss of the query (trigram word similarity, accents removed: "Safe Horison");
- one of its published NGOs or police departments has a name close to the query (trigram word similarity on
  the organisation's name, served by the organisations' own trigram indexes).

The last two only for plain words: a query using the web-search operators ("a phrase", -word, or) asks for
exactly that, and a name that is merely similar to the text would bring back what it excludes.

Why organisations are matched at query time rather than copied into the partnership's vector: their names live
in other tables, so a stored copy would need triggers on both link tables and on both organisation tables (a
rename touching thousands of partnerships), and would go on matching an organisation after it is unpublished.
Looking them up at query time is always current and respects publication; the price is that an organisation's
name does not add to the rank.

Each branch is an indexed lookup; their union of ids is joined back to the partnerships, so a search over a
million partnerships reads only the matching rows."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.db.models import F, QuerySet, Value

from partnerships.models import NGO, Partnership, PartnershipQuerySet, PoliceDepartment
from registry.search import RANK, Unaccent, name_similar, search_query, search_rank, uses_operators


def partnership_search(*, queryset: PartnershipQuerySet, text: str) -> PartnershipQuerySet:
    """The partnerships of ``queryset`` matching ``text``, annotated with their rank and ordered best first."""
    matching = partnership_matches(text=text)
    return queryset.filter(pk__in=matching).annotate(**{RANK: search_rank(text)}).order_by(f"-{RANK}", "slug")


def partnership_matches(*, text: str) -> QuerySet[Any]:
    """The ids of the partnerships matching ``text`` (any publication state), as a subquery of indexed lookups:
    the public search ranks them, the admin's search filters its changelist with them."""
    query = search_query(text)
    by_vector = Partnership.objects.filter(search_vector=query).order_by().values("pk")
    if uses_operators(text):
        return by_vector
    by_name = Partnership.objects.filter(name_similar(text)).order_by().values("pk")
    organisation_name = TrigramWordSimilar(F("name"), Unaccent(Value(text)))
    by_ngo = Partnership.ngos.through.objects.filter(
        ngo__in=NGO.objects.public().filter(organisation_name).values("pk")
    ).values("partnership_id")
    by_police = Partnership.police_departments.through.objects.filter(
        policedepartment__in=PoliceDepartment.objects.public().filter(organisation_name).values("pk")
    ).values("partnership_id")
    return by_vector.union(by_name, by_ngo, by_police)
