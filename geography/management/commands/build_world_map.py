"""``manage.py build_world_map [--source PATH] [--resolution 50m|110m] [--output PATH]``: (re)build the committed
``geography/worldmap/world.json`` from the world-atlas TopoJSON. Needs no database."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from geography.worldmap.build import (
    DEFAULT_OUTPUT,
    DEFAULT_PRECISION,
    DEFAULT_RESOLUTION,
    DEFAULT_TOLERANCE,
    RESOLUTIONS,
    WORLD_ATLAS_PACKAGE,
    WORLD_ATLAS_VERSION,
    WorldMapBuildError,
    build_world_map,
    country_names,
    read_topology,
    write_world_json,
)


class Command(BaseCommand):
    help = (
        f"Build the world map's geometry (geography/worldmap/world.json, committed) from {WORLD_ATLAS_PACKAGE}@"
        f"{WORLD_ATLAS_VERSION} (Natural Earth): decode the TopoJSON, project with Equal Earth, simplify, and write "
        "one SVG path, a label point and, for microstates, a point per country. Without --source the package is "
        "fetched with `npm pack` (needs Node.js and access to the npm registry) and checked against its published "
        "integrity. The same input gives the same file."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source",
            type=Path,
            default=None,
            help="A countries-*.json file, a world-atlas .tgz, or an unpacked package folder, instead of npm.",
        )
        parser.add_argument(
            "--resolution",
            choices=RESOLUTIONS,
            default=DEFAULT_RESOLUTION,
            help=f"Natural Earth scale to use (default {DEFAULT_RESOLUTION}); ignored when --source is a JSON file.",
        )
        parser.add_argument(
            "--output", type=Path, default=DEFAULT_OUTPUT, help=f"File to write (default {DEFAULT_OUTPUT})."
        )
        parser.add_argument(
            "--tolerance",
            type=float,
            default=DEFAULT_TOLERANCE,
            help=f"Simplification tolerance in map units, the map being ~1000 wide (default {DEFAULT_TOLERANCE}).",
        )
        parser.add_argument(
            "--precision",
            type=int,
            choices=range(4),
            default=DEFAULT_PRECISION,
            help=f"Decimals kept in coordinates (default {DEFAULT_PRECISION}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        verbose = options["verbosity"] >= 1

        def progress(message: str) -> None:
            if verbose:
                self.stderr.write(f"[{time.monotonic() - started:5.1f}s] {message}")

        source: Path | None = options["source"]
        resolution: str = options["resolution"]
        output: Path = options["output"]
        try:
            if source is not None:
                progress(f"Reading {source}.")
            topology = read_topology(source, resolution, progress=progress)
            label = (
                source.name
                if source is not None and source.suffix == ".json"
                else f"{WORLD_ATLAS_PACKAGE}@{WORLD_ATLAS_VERSION} countries-{resolution}.json"
            )
            data = build_world_map(
                topology,
                names=country_names(),
                source=label,
                tolerance=options["tolerance"],
                precision=options["precision"],
                progress=progress,
            )
        except WorldMapBuildError as exc:
            raise CommandError(str(exc)) from exc
        size = write_world_json(data, output)
        points = sum(1 for c in data["countries"] if c["point"] is not None)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {output}: {len(data['countries'])} countries ({points} with a point), "
                f"{len(data['unassigned'])} unassigned shapes, {size / 1024:.0f} KB, "
                f"in {time.monotonic() - started:.1f} s."
            )
        )
