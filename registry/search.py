"""Full-text search shared by every searchable list: the ``q`` filter, accent folding and the rank annotation.

A query uses PostgreSQL's web-search syntax (``words``, ``"quoted phrases"``, ``-excluded``, ``or``) against a
stored ``tsvector``, with accents removed on both sides by ``registry_unaccent()`` (an IMMUTABLE wrapper of
``unaccent``, created by partnerships migration 0005). Near-miss names ("Safe Horison") are found by trigram word
similarity, so a typo still finds the record. The rank is a double-precision number: the cursor stores it and
compares it again, so it must read back from Python exactly (a ``real`` would not)."""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.core.exceptions import ValidationError
from django.db.models import Expression, F, FloatField, Func, TextField, Value
from django.db.models.functions import Cast

SEARCH_CONFIG = "english"
MAX_SEARCH_LENGTH = 200
SEARCH_LABEL = 'Full-text search (web search syntax: words, "quoted phrases", -excluded, or)'
# Name similarity counts for a tenth of the rank: it orders near-miss names among themselves and lifts a record
# whose name is what was typed, without outweighing a full-text match in the name (weight A).
NAME_SIMILARITY_WEIGHT = 0.1
# The annotation the search adds; the cursor pagination orders by it when no other ordering is asked for.
RANK = "search_rank"


class Unaccent(Func):
    """``registry_unaccent(text)``: the text with accents removed ("Policía" becomes "Policia")."""

    function = "registry_unaccent"
    output_field = TextField()


def search_query(text: str) -> SearchQuery:
    return SearchQuery(Unaccent(Value(text)), search_type="websearch", config=SEARCH_CONFIG)


def name_similar(text: str, name: str = "name") -> TrigramWordSimilar:
    """True where ``text`` is close to a run of words of the name (pg_trgm's ``%>``, served by a trigram index on
    ``registry_unaccent(name)``)."""
    return TrigramWordSimilar(Unaccent(F(name)), Unaccent(Value(text)))


def search_rank(text: str, vector: str = "search_vector", name: str = "name") -> Expression:
    """Full-text rank of the stored vector plus a little of the name's trigram similarity, as double precision."""
    return Cast(SearchRank(F(vector), search_query(text)), FloatField()) + Value(NAME_SIMILARITY_WEIGHT) * Cast(
        TrigramWordSimilarity(Unaccent(Value(text)), Unaccent(F(name))),  # type: ignore[arg-type]  # stubs: str only
        FloatField(),
    )


OPERATORS = re.compile(r'"|(?:^|\s)-\S|(?:^|\s)or(?:\s|$)', re.IGNORECASE)


def uses_operators(text: str) -> bool:
    """Whether the query uses web-search syntax: a quoted phrase, an excluded -word or ``or``."""
    return OPERATORS.search(text) is not None


def validate_search(value: str) -> None:
    if len(value) > MAX_SEARCH_LENGTH:
        raise ValidationError(
            f"Search terms are limited to {MAX_SEARCH_LENGTH} characters (this one has {len(value)}).",
            code="max_length",
        )
    if "\x00" in value:
        raise ValidationError("Search terms cannot contain NUL characters.", code="invalid")
    if not value.strip():
        raise ValidationError("Give at least one word to search for.", code="invalid")


class SearchFilter(django_filters.CharFilter):
    """``?q=``: full-text search; the FilterSet's ``method`` does the model's search."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label", SEARCH_LABEL)
        kwargs.setdefault("validators", [validate_search])
        kwargs.setdefault("strip", False)  # validate_search sees the text as given
        super().__init__(*args, **kwargs)
