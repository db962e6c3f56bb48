"""``registry_data_version()``: the data version (registry/versioning.py) as a PL/pgSQL function.

The version is the newest history event of every event table: one statement of 41 index lookups. Sent as SQL
it is planned again on every request (about 1 ms, as long as running it); inside a PL/pgSQL function its plan is
prepared once per connection and reused. This migration creates it over the event tables of its time; after
every ``migrate`` it is created again over every event table then known (``refresh_data_version_function`` in
registry/apps.py), so a model added later is covered without a migration (tests/test_response_cache.py checks).
"""

from django.db import migrations

from registry.versioning import version_function_sql

EVENT_TABLES = [
    "cases_casequoteevent",
    "cases_issuetypeevent",
    "cases_overreachcaseevent",
    "cases_overreachcaseissuesevent",
    "cases_overreachcasepartnershipsevent",
    "cases_overreachcasesourcesevent",
    "cases_overreachcasesurveillancemethodsevent",
    "geography_countryevent",
    "geography_jurisdictionevent",
    "geography_regionevent",
    "legal_legalinstrumentevent",
    "legal_legalinstrumentsourcesevent",
    "legal_legalinstrumenttopicsevent",
    "legal_legaltopicevent",
    "legal_oversightbodyevent",
    "legal_oversightbodyinstrumentsevent",
    "legal_oversightbodysourcesevent",
    "partnerships_accountabilitymechanismevent",
    "partnerships_accountabilitymechanismsourcesevent",
    "partnerships_challengeevent",
    "partnerships_challengesourcesevent",
    "partnerships_focusareaevent",
    "partnerships_mechanismassessmentevent",
    "partnerships_ngoevent",
    "partnerships_ngosourcesevent",
    "partnerships_objectiveevent",
    "partnerships_objectivesourcesevent",
    "partnerships_partnershipevent",
    "partnerships_partnershipfocusareasevent",
    "partnerships_partnershipngosevent",
    "partnerships_partnershippolicedepartmentsevent",
    "partnerships_partnershipsourcesevent",
    "partnerships_partnershipsurveillancepracticesevent",
    "partnerships_policedepartmentevent",
    "partnerships_policedepartmentsourcesevent",
    "partnerships_stakeholdergroupevent",
    "partnerships_stakeholdergroupsourcesevent",
    "partnerships_surveillancepracticeevent",
    "partnerships_surveillancepracticesourcesevent",
    "provenance_claimevent",
    "provenance_sourceevent",
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_readable_constraint_messages"),
        ("geography", "0003_readable_constraint_messages"),
        ("legal", "0004_readable_constraint_messages"),
        ("partnerships", "0006_published_partnerships_index"),
        ("provenance", "0003_readable_constraint_messages"),
    ]

    operations = [
        migrations.RunSQL(
            version_function_sql(EVENT_TABLES),
            reverse_sql="DROP FUNCTION IF EXISTS registry_data_version()",
        ),
    ]
