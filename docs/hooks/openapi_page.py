"""MkDocs hook: the control API reference, rendered from the OpenAPI description at build time.

docs/control-api.md holds the hand-written introduction and the marker line `<!-- openapi -->`; this hook puts the
reference in its place: per tag, each operation's method and path, summary, parameters, request body, responses and
their examples, then the schemas. It imports the description the server serves at /_sandbox/openapi.json
(sandbox.admin.openapi.document), so no server runs and the page cannot drift from the API.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

MARKER = "<!-- openapi -->"
PAGE = "control-api.md"
METHODS = ("get", "post", "put", "patch", "delete")
REPOSITORY = Path(__file__).resolve().parents[2]


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"{PAGE} lost its {MARKER} line, where the generated reference goes")
    return markdown.replace(MARKER, render(load_document()))


def load_document() -> dict:
    if str(REPOSITORY) not in sys.path:  # a checkout that is not installed still builds its own docs
        sys.path.insert(0, str(REPOSITORY))
    from sandbox.admin.openapi import document

    return document()


def render(document: dict) -> str:
    out: list[str] = []
    by_tag = operations_by_tag(document)
    for tag in document.get("tags", []):
        out += [f"## {tag['description']}", ""]
        for method, path, op in by_tag.get(tag["name"], []):
            out += render_operation(document, method, path, op)
    out += render_common_errors(document)
    out += render_schemas(document)
    return "\n".join(out) + "\n"


def operations_by_tag(document: dict) -> dict[str, list[tuple[str, str, dict]]]:
    found: dict[str, list[tuple[str, str, dict]]] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                found.setdefault(op["tags"][0], []).append((method.upper(), path, op))
    return found


def resolve(document: dict, node: dict) -> dict:
    """Follow a local $ref (#/components/...) to what it names."""
    while "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def ref_name(node: dict) -> str | None:
    ref = node.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


def render_operation(document: dict, method: str, path: str, op: dict) -> list[str]:
    out = [f"### {op['summary']} {{#{op['operationId']}}}", "", f"`{method} {path}`", ""]
    if op.get("description"):
        out += [op["description"], ""]
    params = [resolve(document, p) for p in op.get("parameters", [])]
    if params:
        out += ["| parameter | in | required | description |", "|---|---|---|---|"]
        for p in params:
            required = "yes" if p.get("required") else "no"
            out.append(f"| `{p['name']}` | {p['in']} | {required} | {cell(p.get('description', ''))} |")
        out.append("")
    body = op.get("requestBody")
    if body:
        out += render_body(document, body)
    out += render_responses(document, op["responses"])
    return out


def render_body(document: dict, body: dict) -> list[str]:
    out = []
    for media, content in body.get("content", {}).items():
        required = ", required" if body.get("required") else ", optional"
        out += [f"**Request body** ({media}{required}): {schema_text(content.get('schema', {}))}", ""]
        out += render_examples("Request", content)
    return out


def render_responses(document: dict, responses: dict) -> list[str]:
    out = ["| status | answer |", "|---|---|"]
    examples = []
    for status, response in sorted(responses.items()):
        shared = ref_name(response)
        response = resolve(document, response)
        answer = cell(response.get("description", ""))
        for media, content in response.get("content", {}).items():
            answer += f" ({media}: {schema_text(content.get('schema', {}))})"
        if shared:
            answer += ", see [errors](#common-error-answers)"
        elif status.startswith("2"):
            examples += [(status, media, content) for media, content in response.get("content", {}).items()]
        out.append(f"| {status} | {answer} |")
    out.append("")
    for status, _media, content in examples:
        out += render_examples(status, content)
    return out


def render_examples(label: str, content: dict) -> list[str]:
    out = []
    named = content.get("examples", {})
    if "example" in content:
        named = {"example": {"value": content["example"]}, **named}
    for name, example in named.items():
        title = example.get("summary") or name
        out += [f"{label}, *{title}*:", "", "```json", as_json(example.get("value")), "```", ""]
    return out


def render_common_errors(document: dict) -> list[str]:
    out = ["## Common error answers", ""]
    out += ["Every operation above that lists one of these statuses answers it in this shape.", ""]
    for name, response in document["components"].get("responses", {}).items():
        out += [f"### {name}", "", response.get("description", ""), ""]
        for content in response.get("content", {}).values():
            out += render_examples("Example", content)
    return out


def render_schemas(document: dict) -> list[str]:
    out = ["## Schemas", ""]
    for name, schema in document["components"].get("schemas", {}).items():
        out += [f"### {name} {{#schema-{name.lower()}}}", ""]
        if schema.get("description"):
            out += [schema["description"], ""]
        properties = schema.get("properties", {})
        if properties:
            required = set(schema.get("required", []))
            out += ["| field | type | required | description |", "|---|---|---|---|"]
            for field, prop in properties.items():
                yes = "yes" if field in required else "no"
                out.append(f"| `{field}` | {schema_text(prop)} | {yes} | {cell(prop.get('description', ''))} |")
            out.append("")
        else:
            out += [f"Type: {schema_text(schema)}", ""]
    return out


def schema_text(schema: dict) -> str:
    """A schema in a few words: a link to a named schema, or its type."""
    name = ref_name(schema)
    if name:
        return f"[`{name}`](#schema-{name.lower()})"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{value}`" for value in schema["enum"])
    for combinator in ("oneOf", "anyOf", "allOf"):
        if combinator in schema:
            return " or ".join(schema_text(part) for part in schema[combinator])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array":
        return f"array of {schema_text(schema.get('items', {}))}"
    return f"`{kind}`"


def cell(text: str) -> str:
    """Text fit for one table cell: one line, no column breaks."""
    return " ".join(str(text).split()).replace("|", "\\|")


def as_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
