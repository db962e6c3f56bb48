"""Every field of the registry's models explains itself: help_text feeds the admin, the API schema and the docs."""

from django.apps import apps
from pghistory.models import Event

PROJECT_APPS = ["provenance", "geography", "partnerships", "legal", "cases", "accounts", "imports", "inquiries"]


def test_every_field_has_help_text():
    missing = [
        f"{model._meta.label}.{field.name}"
        for app_label in PROJECT_APPS
        for model in apps.get_app_config(app_label).get_models()
        if not issubclass(model, Event) and not model._meta.proxy
        for field in model._meta.get_fields(include_hidden=False)
        if (field.concrete or field.many_to_many)
        and not field.auto_created
        and not str(getattr(field, "help_text", "")).strip()
    ]
    assert missing == []
