"""The JSON Schema of scenario files (``zego-emulator schema``): what the loader accepts.

Two things make the schema pydantic derives stricter or barer than the loader:

* A field with a *before* validator takes more than its type says: ``code: 70000`` for
  a text code, ``stream_seq: 7`` for a counter ZEGO sends as a string, ``action: logout``
  for ZIM's numeric action. :class:`ScenarioJsonSchema` widens exactly those fields (a
  text field also takes a number; a numeric code also takes its name).
* Event keys without a description of their own get one naming the event they belong
  to, so every property of the schema is described.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema


class ScenarioJsonSchema(GenerateJsonSchema):
    """Pydantic's generator, with before-validated fields widened to what they accept."""

    def function_before_schema(
        self, schema: core_schema.BeforeValidatorFunctionSchema
    ) -> JsonSchemaValue:
        return widened(super().function_before_schema(schema))


def widened(schema: JsonSchemaValue) -> JsonSchemaValue:
    """``schema`` of a text leaf also taking a number, of a numeric code also taking text."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            members = schema[key]
            if any(_takes(m, str) for m in members) and any(_takes(m, int) for m in members):
                return schema  # already says both (e.g. a code as "100" or 100)
            return {**schema, key: [widened(member) for member in members]}
    kind = schema.get("type")
    if kind == "string":
        more: JsonSchemaValue = {**schema, "type": ["string", "integer"]}
        if "enum" in schema:  # "0" | "100" also as 0 | 100
            more["enum"] = [*schema["enum"], *(int(v) for v in schema["enum"] if v.isdigit())]
        return more
    if kind == "integer" and ("enum" in schema or "const" in schema):
        return {**schema, "type": ["integer", "string"], **_names_allowed(schema)}
    return schema


def _takes(schema: JsonSchemaValue, kind: type) -> bool:
    """Whether ``schema`` admits some value of ``kind`` (str or int), by type or enum."""
    name = "string" if kind is str else "integer"
    types = schema.get("type")
    if types == name or (isinstance(types, list) and name in types):
        return True
    values = schema.get("enum", [schema["const"]] if "const" in schema else [])
    return any(isinstance(value, kind) and not isinstance(value, bool) for value in values)


def _names_allowed(schema: JsonSchemaValue) -> JsonSchemaValue:
    """An integer enum whose validator also reads names (``logout`` for 1): drop the enum
    for text, which the loader checks by name (the schema cannot list every alias)."""
    codes = schema.get("enum", [schema.get("const")])
    return {"enum": None, "anyOf": [{"enum": codes}, {"type": "string"}]}


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, every property described."""
    from emulator.scenario.model import Scenario

    schema = Scenario.model_json_schema(schema_generator=ScenarioJsonSchema)
    _drop_nulls(schema)
    for name, definition in schema.get("$defs", {}).items():
        _describe_properties(name, definition)
    return schema


def _drop_nulls(node: Any) -> None:
    """Remove the ``"enum": None`` placeholders :func:`_names_allowed` leaves."""
    if isinstance(node, dict):
        if node.get("enum", ...) is None:
            del node["enum"]
            node.pop("type", None)  # anyOf says it
        for value in node.values():
            _drop_nulls(value)
    elif isinstance(node, list):
        for item in node:
            _drop_nulls(item)


def _subject(doc: str) -> str:
    """What a nested model is, from its docstring: ``Scenario keys of one transcode output;
    anything absent is faked`` -> ``one transcode output``."""
    text = doc.strip().splitlines()[0].split(";")[0].rstrip(".").replace("``", "`")
    text = text.removeprefix("Scenario keys of ").removeprefix("scenario keys of ")
    return text[:1].lower() + text[1:] if text else doc


def _describe_properties(name: str, definition: dict[str, Any]) -> None:
    """Give every property of one ``$defs`` entry a description (its own, or where it is)."""
    properties = definition.get("properties", {})
    event = properties.get("event", {}).get("default")
    if isinstance(event, str):  # an entry of callbacks: (ComposeEntry, ZimSendMsgEntry, ...)
        where = f"the {event} callback"
    else:
        where = _subject(str(definition.get("description") or name))
    for key, prop in properties.items():
        if isinstance(prop, dict) and not prop.get("description"):
            prop["description"] = f"`{key}` of {where}; faked when absent"
