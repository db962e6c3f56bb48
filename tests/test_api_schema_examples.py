"""The examples in the OpenAPI schema are valid responses: each one matches the schema of the response it
illustrates, so a reader (or a generated client's test) can trust them."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

pytestmark = pytest.mark.django_db


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable: true`` becomes a "null" type; $refs point at #/$defs."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if "$ref" in converted:
        converted["$ref"] = converted["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.get("nullable"):
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
        if "type" not in converted and "enum" not in converted:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def examples_of(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                for media_type, content in response.get("content", {}).items():
                    for name, example in content.get("examples", {}).items():
                        label = f"{method.upper()} {path} {status} {media_type} {name}"
                        found.append((label, content["schema"], example["value"]))
    return found


@pytest.fixture
def schema(anon_client) -> dict[str, Any]:
    response = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_the_main_operations_have_examples(schema) -> None:
    labels = [label for label, _, _ in examples_of(schema)]
    for wanted in (
        "GET /api/v1/partnerships/ 200",
        "GET /api/v1/partnerships/ 400",
        "GET /api/v1/partnerships/{slug}/ 200",
        "GET /api/v1/partnerships/{slug}/ 404",
    ):
        assert any(label.startswith(wanted) for label in labels), wanted


def test_every_example_matches_its_response_schema(schema) -> None:
    definitions = as_json_schema(schema["components"]["schemas"])
    examples = examples_of(schema)
    assert examples
    for label, response_schema, value in examples:
        validator = jsonschema.Draft202012Validator(
            {**as_json_schema(response_schema), "$defs": definitions},
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        problems = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(value)]
        assert not problems, f"{label}: {problems}"


def test_the_disputed_example_shows_both_claimed_years(schema) -> None:
    detail = schema["paths"]["/api/v1/partnerships/{slug}/"]["get"]["responses"]["200"]["content"]
    value = detail["application/json"]["examples"]["ADisputedPartnership"]["value"]
    assert value["disputed_fields"] == ["year_established"]
    assert {claim["value"] for claim in value["claims"] if claim["field"] == "year_established"} == {"1995", "2018"}


def test_the_validator_catches_a_wrong_example() -> None:
    """The check above can fail: a record with a year as text does not match."""
    definitions = {"Thing": {"type": "object", "properties": {"year": {"type": "integer", "nullable": True}}}}
    validator = jsonschema.Draft202012Validator({"$ref": "#/$defs/Thing", "$defs": as_json_schema(definitions)})
    assert list(validator.iter_errors({"year": None})) == []
    assert list(validator.iter_errors({"year": "1995"}))
