"""Does a changed model still accept what its committed schema promised?

A payload schema is a promise to producers: every message valid under the
snapshot must stay valid. A result schema is a promise to consumers: every result
the model produces must stay valid under the snapshot. Both reduce to one
question, "does schema B reject anything schema A accepts?", answered here for
the subset of JSON Schema that pydantic generates. Each answer names the field
and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Side:
    """One schema document, with its `$defs` for resolving references."""

    root: Schema
    label: str

    def resolve(self, node: Schema) -> Schema:
        seen = 0
        while "$ref" in node and seen < 50:
            name = node["$ref"].rsplit("/", 1)[-1]
            node = {**self.root.get("$defs", {})[name], **_without(node, "$ref")}
            seen += 1
        return node


def narrowings(wide: Side, narrow: Side) -> list[str]:
    """Why `narrow` rejects values that `wide` accepts; empty when it rejects none."""
    return _compare(wide, narrow, wide.root, narrow.root, "(root)")


def _compare(wide: Side, narrow: Side, w: Schema, n: Schema, at: str) -> list[str]:
    w, n = wide.resolve(w), narrow.resolve(n)
    w_branches, n_branches = _branches(w), _branches(n)
    if w_branches is not None:
        return [
            reason
            for branch in w_branches
            for reason in _compare(wide, narrow, {**_plain(w), **branch}, n, at)
        ]
    if n_branches is not None:
        return _best_branch(wide, narrow, w, n, n_branches, at)
    mismatch = _types(wide, narrow, w, n, at)
    if mismatch:
        # Limits of one type say nothing about values of another.
        return mismatch
    return [
        *_values(wide, narrow, w, n, at),
        *_limits(wide, narrow, w, n, at),
        *_objects(wide, narrow, w, n, at),
        *_arrays(wide, narrow, w, n, at),
    ]


def _branches(node: Schema) -> list[Schema] | None:
    for key in ("anyOf", "oneOf"):
        if key in node:
            return list(node[key])
    return None


def _plain(node: Schema) -> Schema:
    return _without(node, "anyOf", "oneOf", "discriminator")


def _best_branch(
    wide: Side, narrow: Side, w: Schema, n: Schema, branches: list[Schema], at: str
) -> list[str]:
    # `w` is accepted when any branch of `n` accepts it; otherwise report the
    # branch that comes closest, which is usually the variant meant.
    best: list[str] | None = None
    for branch in branches:
        reasons = _compare(wide, narrow, w, {**_plain(n), **branch}, at)
        if not reasons:
            return []
        if best is None or len(reasons) < len(best):
            best = reasons
    return best or []


def _types(wide: Side, narrow: Side, w: Schema, n: Schema, at: str) -> list[str]:
    n_types = _type_set(n)
    if n_types is None:
        return []
    w_types = _type_set(w)
    if "number" in n_types:
        n_types = n_types | {"integer"}
    if w_types is None or w_types - n_types:
        was = "any type" if w_types is None else " or ".join(sorted(w_types))
        return [
            f"{at}: {wide.label} accepts {was}, {narrow.label} only"
            f" {' or '.join(sorted(_type_set(n) or ()))}"
        ]
    return []


def _type_set(node: Schema) -> set[str] | None:
    kind = node.get("type")
    if kind is None:
        if "const" in node or "enum" in node:
            return {_json_type(value) for value in _value_list(node) or ()}
        return None
    return set(kind) if isinstance(kind, list) else {kind}


def _json_type(value: Any) -> str:
    for python, name in ((bool, "boolean"), (int, "integer"), (float, "number")):
        if isinstance(value, python):
            return name
    return {str: "string", type(None): "null", list: "array"}.get(type(value), "object")


def _value_list(node: Schema) -> list[Any] | None:
    if "const" in node:
        return [node["const"]]
    if "enum" in node:
        return list(node["enum"])
    return None


def _values(wide: Side, narrow: Side, w: Schema, n: Schema, at: str) -> list[str]:
    n_values = _value_list(n)
    if n_values is None:
        return []
    w_values = _value_list(w)
    if w_values is None:
        return [f"{at}: {narrow.label} accepts only {n_values}, {wide.label} any value"]
    dropped = [value for value in w_values if value not in n_values]
    if dropped:
        return [f"{at}: {narrow.label} no longer accepts {dropped}"]
    return []


# keyword -> True when a larger value in `narrow` accepts less.
LIMITS = {
    "minLength": True,
    "maxLength": False,
    "minimum": True,
    "exclusiveMinimum": True,
    "maximum": False,
    "exclusiveMaximum": False,
    "minItems": True,
    "maxItems": False,
}


def _limits(wide: Side, narrow: Side, w: Schema, n: Schema, at: str) -> list[str]:
    reasons = []
    for keyword, larger_is_stricter in LIMITS.items():
        if keyword not in n:
            continue
        old, new = w.get(keyword), n[keyword]
        stricter = old is None or (new > old if larger_is_stricter else new < old)
        if stricter:
            before = "none" if old is None else old
            reasons.append(
                f"{at}: {keyword} is {new} in {narrow.label}, {before} in {wide.label}"
            )
    for keyword in ("pattern", "format", "multipleOf"):
        if keyword in n and n[keyword] != w.get(keyword):
            reasons.append(
                f"{at}: {keyword} {n[keyword]!r} in {narrow.label},"
                f" {w.get(keyword)!r} in {wide.label}"
            )
    return reasons


def _objects(wide: Side, narrow: Side, w: Schema, n: Schema, at: str) -> list[str]:
    if "properties" not in n and n.get("additionalProperties") is not False:
        return []
    reasons = []
    w_fields, n_fields = w.get("properties", {}), n.get("properties", {})
    for field in sorted(set(n.get("required", ())) - set(w.get("required", ()))):
        reasons.append(
            f"{_join(at, field)}: required by {narrow.label}, optional in {wide.label}"
        )
    closed = n.get("additionalProperties") is False
    for field, schema in w_fields.items():
        if field in n_fields:
            reasons += _compare(wide, narrow, schema, n_fields[field], _join(at, field))
        elif closed:
            reasons.append(
                f"{_join(at, field)}: accepted by {wide.label}, but {narrow.label}"
                " has no such field and refuses unknown fields"
            )
    if closed and w.get("additionalProperties") is not False:
        reasons.append(
            f"{at}: {narrow.label} refuses unknown fields, {wide.label} accepts them"
        )
    return reasons


def _arrays(wide: Side, narrow: Side, w: Schema, n: Schema, at: str) -> list[str]:
    if "items" not in n:
        return []
    return _compare(wide, narrow, w.get("items", {}), n["items"], f"{at}[]")


def _join(at: str, field: str) -> str:
    return field if at == "(root)" else f"{at}.{field}"


def _without(node: Schema, *keys: str) -> Schema:
    return {key: value for key, value in node.items() if key not in keys}


def snapshot_problems(
    snapshot: dict[str, Schema], current: dict[str, Schema]
) -> list[str]:
    """Every way the current contracts break the committed snapshot.

    Both arguments map file names (`email.send.payload.json`) to schemas, as
    `project.schemas.contract_files()` and `read_snapshot()` give them.
    """
    problems = []
    for name in sorted(snapshot.keys() - {"index.json"}):
        task = name.rsplit(".", 2)[0]
        if name not in current:
            problems.append(
                f"{task}: {name} is in the snapshot but the task no longer has it;"
                " messages already queued or produced elsewhere would fail"
            )
            continue
        old = Side(snapshot[name], "the snapshot")
        new = Side(current[name], "the model")
        # Payloads must accept what producers were promised; results must stay
        # within what consumers were promised.
        pair = (old, new) if name.endswith(".payload.json") else (new, old)
        problems += [f"{task}: {reason}" for reason in narrowings(*pair)]
    for name in sorted(current.keys() - snapshot.keys()):
        problems.append(
            f"{name} has no committed snapshot; run `project schemas --out schemas`"
            " and commit the result"
        )
    return problems
