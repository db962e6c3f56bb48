""" "Cite this record": APA, BibTeX and CSL-JSON for any public record page, with its permalink, the date of
the version cited (the record's last change) and the access date."""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils import timezone

PUBLISHER = "Partnership Registry"


@dataclass(frozen=True)
class Citation:
    permalink: str
    title: str
    version_date: datetime.date
    accessed: datetime.date
    kind: str  # "Data set record" and the like, for APA's bracketed description
    key: str

    @property
    def apa(self) -> str:
        version = f"{self.version_date:%Y, %B} {self.version_date.day}"
        accessed = f"{self.accessed:%B} {self.accessed.day}, {self.accessed:%Y}"
        return f"{PUBLISHER}. ({version}). {self.title} [{self.kind}]. Retrieved {accessed}, from {self.permalink}"

    @property
    def bibtex(self) -> str:
        fields = [
            ("title", "{" + bibtex_escape(self.title) + "}"),
            ("author", "{" + PUBLISHER + "}"),
            ("year", str(self.version_date.year)),
            ("month", self.version_date.strftime("%b").lower()),
            ("url", self.permalink),
            ("urldate", self.accessed.isoformat()),
            ("note", f"{bibtex_escape(self.kind)}, version of {self.version_date.isoformat()}"),
        ]
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        return f"@misc{{{self.key},\n{body}\n}}"

    @property
    def csl_json(self) -> str:
        item = {
            "id": self.key,
            "type": "dataset",
            "title": self.title,
            "author": [{"literal": PUBLISHER}],
            "publisher": PUBLISHER,
            "genre": self.kind,
            "URL": self.permalink,
            "issued": {"date-parts": [[self.version_date.year, self.version_date.month, self.version_date.day]]},
            "accessed": {"date-parts": [[self.accessed.year, self.accessed.month, self.accessed.day]]},
        }
        return json.dumps([item], indent=2, ensure_ascii=False)


BIBTEX_SPECIAL = re.compile(r"([{}\\&%$#_^~])")


def bibtex_escape(text: str) -> str:
    """Escape what BibTeX (and LaTeX) would read as markup; braces stay balanced."""
    replacements = {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}", "{": r"\{", "}": r"\}"}
    return BIBTEX_SPECIAL.sub(lambda m: replacements.get(m.group(1), "\\" + m.group(1)), text)


def cite(request: HttpRequest, *, title: str, path: str, updated_at: datetime.datetime, kind: str) -> Citation:
    """The citation of the page at ``path`` (its permalink is that absolute URL)."""
    slug = path.strip("/").replace("/", "-")
    return Citation(
        permalink=request.build_absolute_uri(path),
        title=title,
        version_date=timezone.localdate(updated_at),
        accessed=timezone.localdate(),
        kind=kind,
        key=f"partnershipregistry-{slug}"[:80],
    )
