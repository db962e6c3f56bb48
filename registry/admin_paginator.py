"""A paginator for the admin changelists of tables with a million rows: it counts at most ``COUNT_CAP`` + 1 rows.

Django's admin counts every matching row to number its pages (``SELECT COUNT(*)``): on a million partnerships a
filter matching a tenth of them took ~500 ms for the count alone. This paginator asks PostgreSQL for at most
``COUNT_CAP`` + 1 rows (``SELECT COUNT(*) FROM (SELECT ... LIMIT 10001)``, without the ordering, so the planner
picks the filter's index), and the changelist then says "more than 10,000" instead of an exact number. Up to the
cap every count is exact; past it, the page links stop at the cap (a search or a filter narrows the list).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.utils.formats import number_format

COUNT_CAP = 10_000


class AtLeast(int):
    """A count that stopped at the cap: behaves as the number (page arithmetic), reads as "more than N"."""

    cap: int

    def __new__(cls, cap: int) -> AtLeast:
        count = super().__new__(cls, cap + 1)
        count.cap = cap
        return count

    def __str__(self) -> str:
        return f"more than {number_format(self.cap, force_grouping=True)}"


class CappedCountPaginator(Paginator):
    """Paginator whose ``count`` is exact up to ``COUNT_CAP`` and ``AtLeast(COUNT_CAP)`` beyond."""

    count_cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        object_list: Any = self.object_list
        if not hasattr(object_list, "order_by"):
            return len(object_list)
        counted = object_list.order_by()[: self.count_cap + 1].count()
        return AtLeast(self.count_cap) if counted > self.count_cap else counted
