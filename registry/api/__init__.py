"""The public JSON API, version 1 (``/api/v1/``): read-only for the public, one error shape everywhere.

Building blocks live here (errors, strict filtering, pagination, permissions, throttling); each model's
FilterSet lives next to the model (``partnerships/filters.py``) so the HTML pages use the same classes."""
