#!/usr/bin/env python3
"""Validate a SARIF log against a SARIF JSON schema, offline.

    python3 tests/sarif_validate.py SCHEMA SARIF_FILE [--draft auto|7|2020-12] [-q]

SCHEMA is a local copy of the schema (tests/fixtures/sarif/sarif-schema-2.1.0.json,
see tests/fixtures/sarif/PROVENANCE.md). Every error is printed with the JSON path
of the offending value; the exit status is 0 when the log is valid, 1 when it is
not (or cannot be read, or is not JSON), 2 when the schema cannot be used
(unreadable, or it has a $ref to another document: nothing is fetched from the
network). Notes about the schema go to stderr; -q leaves them out.

The validator class is the one the schema's "$schema" names (the stored SARIF
schema names draft 2020-12), Draft 7 when it names none; --draft forces one.

Known defects of the published SARIF 2.1.0 schema, handled here and reported on
stderr as notes (the schema file itself is kept byte-for-byte):
  * run.language and toolComponent.language have the pattern
    "^(?i)[a-zA]{2}(-[a-z]{2})?$": a global flag after "^", which Python's re
    (and ECMA-262) reject; it is rewritten in memory to "(?i)^[a-zA]{2}(-[a-z]{2})?$"
    (the same, case-insensitive, meaning). Upstream: oasis-tcs/sarif-spec#576, #562.
  * region's "anyOf" (startLine, charOffset or byteOffset required) sits inside
    "properties", so it is not enforced by any validator; the metaschema check
    reports it.
"""

import argparse
import copy
import json
import re
import sys
import urllib.parse

try:
    import jsonschema
    from jsonschema import validators
    from referencing import Registry
    from referencing.exceptions import NoSuchResource
except ImportError as error:  # pragma: no cover - environment problem
    print(f"sarif_validate: needs jsonschema (>= 4.18) and referencing: {error}", file=sys.stderr)
    sys.exit(2)


DRAFTS = {
    "7": jsonschema.Draft7Validator,
    "2020-12": jsonschema.Draft202012Validator,
}


QUIET = False


def note(message):
    if not QUIET:
        print(f"note: {message}", file=sys.stderr)


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle), None
    except OSError as error:
        return None, f"cannot read {what} {path}: {error.strerror}"
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return None, f"{what} {path} is not JSON: {error}"


def schema_id(schema):
    """The URI the schema calls itself ("$id", or draft-04's "id")."""
    for key in ("$id", "id"):
        value = schema.get(key) if isinstance(schema, dict) else None
        if isinstance(value, str):
            return value.split("#", 1)[0]
    return ""


def walk(node, path=()):
    """Every (path, dict) in a JSON document."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, path + (index,))


def pointer(path):
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def remote_refs(schema):
    """$refs that point outside this document (resolved against its $id)."""
    base = schema_id(schema)
    found = []
    for path, node in walk(schema):
        ref = node.get("$ref")
        if not isinstance(ref, str) or ref.startswith("#"):
            continue
        target = urllib.parse.urljoin(base, ref).split("#", 1)[0]
        if target != base:
            found.append((pointer(path), ref))
    return found


def python_patterns(schema):
    """Make every "pattern" compile with Python's re, on a copy; say what changed."""
    schema = copy.deepcopy(schema)
    for path, node in walk(schema):
        pattern = node.get("pattern")
        if not isinstance(pattern, str):
            continue
        try:
            re.compile(pattern)
            continue
        except re.error:
            pass
        # A global inline flag such as (?i) placed after "^": move it to the front.
        moved = re.sub(r"^\^(\(\?[aiLmsux]+\))", r"\1^", pattern)
        try:
            re.compile(moved)
            node["pattern"] = moved
            note(f"schema {pointer(path + ('pattern',))}: pattern {pattern!r} is not a Python "
                 f"regular expression; used {moved!r} instead")
        except re.error as error:
            del node["pattern"]
            note(f"schema {pointer(path + ('pattern',))}: pattern {pattern!r} cannot be compiled "
                 f"({error}); not checked")
    return schema


def refuse_remote(uri):
    raise NoSuchResource(ref=uri)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Validate a SARIF log against a local SARIF JSON schema.")
    parser.add_argument("schema", help="the SARIF JSON schema (a local file)")
    parser.add_argument("sarif", help="the SARIF log to validate")
    parser.add_argument("--draft", choices=["auto", *DRAFTS], default="auto",
                        help="JSON Schema draft to validate with (default: the one the schema's $schema names, else 7)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no notes about the schema on stderr")
    args = parser.parse_args(argv)
    global QUIET
    QUIET = args.quiet

    schema, problem = load_json(args.schema, "schema")
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if not isinstance(schema, dict):
        print(f"error: schema {args.schema} is not a JSON object", file=sys.stderr)
        return 2

    remote = remote_refs(schema)
    if remote:
        for where, ref in remote:
            print(f"error: schema {where}: $ref {ref!r} names another document; "
                  "it is not fetched (give a self-contained schema)", file=sys.stderr)
        return 2

    if args.draft == "auto":
        cls = validators.validator_for(schema, default=jsonschema.Draft7Validator)
    else:
        cls = DRAFTS[args.draft]

    # The schema against its metaschema (bundled with jsonschema, no network): notes only.
    meta = cls(cls.META_SCHEMA, format_checker=cls.FORMAT_CHECKER)
    seen = set()
    for error in sorted(meta.iter_errors(schema), key=lambda e: list(map(str, e.path))):
        said = (error.json_path, error.message)
        if said not in seen:
            seen.add(said)
            note(f"schema {error.json_path}: does not conform to {cls.__name__}'s metaschema: "
                 f"{shorten(error.message)}")
    formats = {node["format"] for _, node in walk(schema) if isinstance(node.get("format"), str)}
    unchecked = sorted(formats - set(cls.FORMAT_CHECKER.checkers))
    if unchecked:
        note(f"formats not checked (no checker installed for them): {', '.join(unchecked)}")

    usable = python_patterns(schema)
    # The schema itself is the registry's root (under its $id); anything else is refused, never fetched.
    registry = Registry(retrieve=refuse_remote)
    validator = cls(usable, registry=registry, format_checker=cls.FORMAT_CHECKER)

    instance, problem = load_json(args.sarif, "SARIF log")
    if problem:
        print(f"error: {problem}")
        return 1

    errors = sorted(validator.iter_errors(instance), key=lambda e: (list(map(str, e.path)), list(map(str, e.schema_path))))
    for error in errors:
        print(f"{error.json_path}: {shorten(error.message)}  [schema: {pointer(error.schema_path)}]")
        # For anyOf/oneOf, say why each branch failed (the deepest first).
        for sub in sorted(error.context or [], key=lambda e: -len(e.path))[:6]:
            print(f"    {sub.json_path}: {shorten(sub.message)}  [schema: {pointer(error.schema_path)}{pointer(sub.schema_path)}]")
    if errors:
        print(f"{args.sarif}: {len(errors)} error(s) against {args.schema} ({cls.__name__})")
        return 1
    print(f"{args.sarif}: valid against {args.schema} ({cls.__name__})")
    return 0


def shorten(text, limit=300):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
