"""Drill 1's contract audit: the contract a target promises versus the schema its code has.

    nox -s audit -- drill1                    regenerate results/ (starter, solution, PR diff)
    nox -s audit -- drill1 --check            fail if results/ is not what the code produces
    nox -s audit -- drill1 --target PATH      audit your copy; writes PATH/DISCREPANCIES.md

The code's schema comes from drf-spectacular, run inside the target's own Django project
(a subprocess, since every target is a separate project). The contract is the target's
`openapi.yaml`. Both are walked operation by operation; every difference becomes one row
with its severity for consumers:

* in a response, the code is *looser* than the contract (sends a value the contract
  forbids, omits a promised field) -> breaking; stricter -> non-breaking;
* in a request, the code is *stricter* (rejects a body the contract allows) -> breaking;
  looser -> non-breaking, though it may still be a bug (a writable read-only field).

Descriptions, examples, titles, operation ids, tags, path parameter names and
`additionalProperties` are not compared: they do not change what travels on the wire,
or drf-spectacular never emits them.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DRILL_CODE = HERE.parent
RESULTS = HERE / "results"
CONTRACT = "openapi.yaml"
REPORT = "DISCREPANCIES.md"
METHODS = ("get", "post", "put", "patch", "delete")
COMPARED = ("type", "format", "enum", "nullable", "pattern", "maxLength", "maximum", "minimum")
BREAKING, SAFE = "breaking", "non-breaking"
# What drf-spectacular is asked for, so every target is generated the same way.
GENERATOR_SETTINGS = {"COMPONENT_SPLIT_REQUEST": True}
# Files of a target that are not part of the "PR" diff between starter and solution.
NOT_IN_DIFF = ("__pycache__", ".pyc", ".sqlite3", REPORT)


# -- generating the code's schema, inside the target's project --------------------------


def generated_schema(target_path: Path) -> dict:
    """The target's schema as drf-spectacular generates it (run in a subprocess)."""
    env = {**os.environ, "PYTHONPATH": str(DRILL_CODE)}
    done = subprocess.run(
        [sys.executable, __file__, "--generate", str(target_path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        from drillkit.errors import DrillError

        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise DrillError(
            f"drf-spectacular could not generate the schema of {target_path}: {last}. "
            "The target must be a Django project that imports (run its tests with "
            "`nox -s drill1 -- --target ...` to see the full error), with drf_spectacular in "
            "INSTALLED_APPS and a DEFAULT_SCHEMA_CLASS based on drf_spectacular's AutoSchema."
        )
    return json.loads(done.stdout)


def _generate_here(target_path: Path) -> None:
    import warnings

    import django

    from drillkit.catalog import get_drill
    from drillkit.targets import activate, resolve_target

    activate(resolve_target(get_drill("drill1"), str(target_path)))
    django.setup()
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.settings import patched_settings

    with warnings.catch_warnings(), patched_settings(GENERATOR_SETTINGS):
        warnings.simplefilter("ignore")
        schema = SchemaGenerator().get_schema(request=None, public=True)
    print(json.dumps(schema, default=str))


# -- comparing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    operation: str  # "GET /api/events/"
    part: str  # "request body", "response 200", "query parameter"
    field: str  # "Event.price", "results[].organizer" ("" for the whole body)
    contract: str
    code: str
    severity: str


class Resolver:
    """Follows local $refs and folds drf-spectacular's `allOf: [$ref]` wrappers."""

    def __init__(self, document: dict) -> None:
        self.document = document

    def resolve(self, schema: dict | None) -> tuple[dict, str | None]:
        name = None
        schema = schema or {}
        while True:
            if "$ref" in schema:
                name = schema["$ref"].rsplit("/", 1)[-1]
                schema = self._lookup(schema["$ref"])
            elif list(schema) and "allOf" in schema and len(schema["allOf"]) == 1:
                extra = {k: v for k, v in schema.items() if k != "allOf"}
                schema = {**self.resolve(schema["allOf"][0])[0], **extra}
            else:
                return schema, name

    def _lookup(self, ref: str) -> dict:
        node = self.document
        for key in ref.removeprefix("#/").split("/"):
            node = node[key]
        return node


def describe(schema: dict, resolver: Resolver, depth: int = 0) -> str:
    """A short human description of a schema, for one cell of the report."""
    schema, name = resolver.resolve(schema)
    if not schema:
        return "nothing"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {describe(schema.get('items', {}), resolver, depth + 1)}"
    if kind == "object" and name and depth:
        return name
    if kind == "object":
        props = list(schema.get("properties", {}))
        inner = ", ".join(props) if len(props) <= 6 else ", ".join(props[:6]) + ", ..."
        return f"{name or 'object'} {{{inner}}}"
    text = kind
    details = [_facts(schema, [key]).split(", ", 1)[1] for key in COMPARED[1:] if key in schema]
    return f"{text} ({', '.join(details)})" if details else text


def _show(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class Auditor:
    def __init__(self, contract: dict, code: dict) -> None:
        self.contract, self.code = contract, code
        self.c, self.g = Resolver(contract), Resolver(code)
        self.findings: list[Finding] = []

    def run(self) -> list[Finding]:
        contract_ops, code_ops = self._operations(self.contract), self._operations(self.code)
        for key in sorted(contract_ops.keys() | code_ops.keys(), key=_operation_order):
            label = f"{key[1].upper()} {contract_ops.get(key, code_ops.get(key))[0]}"
            if key not in code_ops:
                self._add(label, "operation", "", "documented", "not implemented", BREAKING)
            elif key not in contract_ops:
                self._add(label, "operation", "", "not documented", "implemented", SAFE)
            else:
                self._operation(label, contract_ops[key][1], code_ops[key][1])
        return self.findings

    @staticmethod
    def _operations(document: dict) -> dict[tuple[str, str], tuple[str, dict]]:
        found = {}
        for path, item in document.get("paths", {}).items():
            shape = "/".join("{}" if p.startswith("{") else p for p in path.split("/"))
            for method in METHODS:
                if method in item:
                    operation = {**item[method]}
                    params = item.get("parameters", []) + operation.get("parameters", [])
                    operation["parameters"] = params
                    found[(shape, method)] = (path, operation)
        return found

    def _add(self, *args) -> None:
        self.findings.append(Finding(*args))

    def _operation(self, label: str, contract: dict, code: dict) -> None:
        self._parameters(label, contract["parameters"], code["parameters"])
        contract_body = _json_schema(contract.get("requestBody"))
        code_body = _json_schema(code.get("requestBody"))
        if contract_body or code_body:
            self._schema(label, "request body", "", contract_body, code_body, "request")
        contract_responses = contract.get("responses", {})
        code_responses = code.get("responses", {})
        for status in sorted(contract_responses.keys() | code_responses.keys()):
            part = f"response {status}"
            if status not in code_responses:
                severity = BREAKING if status.startswith("2") else SAFE
                code_says = "never sent" if status.startswith("2") else "not documented"
                self._add(label, part, "", "documented", code_says, severity)
            elif status not in contract_responses:
                self._add(label, part, "", "not documented", "documented", SAFE)
            else:
                self._schema(
                    label,
                    part,
                    "",
                    _json_schema(self.c.resolve(contract_responses[status])[0]),
                    _json_schema(self.g.resolve(code_responses[status])[0]),
                    "response",
                )

    def _parameters(self, label: str, contract: list, code: list) -> None:
        def index(params, resolver):
            resolved = (resolver.resolve(p)[0] for p in params)
            return {p["name"]: p for p in resolved if p.get("in") == "query"}

        ours, theirs = index(contract, self.c), index(code, self.g)
        for name in sorted(ours.keys() | theirs.keys()):
            if name not in theirs:
                self._add(label, "query parameter", name, "documented", "ignored", BREAKING)
            elif name not in ours:
                self._add(label, "query parameter", name, "not documented", "accepted", SAFE)

    def _schema(self, label, part, field, contract, code, direction) -> None:
        contract, contract_name = self.c.resolve(contract)
        code, _ = self.g.resolve(code)
        if not contract and not code:
            return
        if not contract or not code:
            self._add(
                label, part, field, describe(contract, self.c), describe(code, self.g), BREAKING
            )
            return
        where = contract_name if contract_name and contract.get("type") == "object" else None
        if contract.get("type") != code.get("type"):
            self._add(
                label, part, field, describe(contract, self.c), describe(code, self.g), BREAKING
            )
            return
        if contract.get("type") == "object":
            self._object(label, part, field, where, contract, code, direction)
        elif contract.get("type") == "array":
            self._schema(
                label, part, f"{field}[]", contract.get("items"), code.get("items"), direction
            )
        else:
            self._scalar(label, part, field, contract, code, direction)

    def _object(self, label, part, field, name, contract, code, direction) -> None:
        prefix = name or field
        ours, theirs = contract.get("properties", {}), code.get("properties", {})
        for prop in [*ours, *(p for p in theirs if p not in ours)]:
            where = f"{prefix}.{prop}" if prefix else prop
            if prop not in theirs:
                code_says = "missing" if direction == "response" else "not accepted"
                self._add(label, part, where, describe(ours[prop], self.c), code_says, BREAKING)
            elif prop not in ours:
                sent = "sent" if direction == "response" else "writable"
                contract_says = "not in the contract"
                if direction == "request" and self._in_some_response(prop):
                    contract_says = "read-only (only in responses)"
                self._add(
                    label,
                    part,
                    where,
                    contract_says,
                    f"{sent}: {describe(theirs[prop], self.g)}",
                    SAFE,
                )
            else:
                self._schema(label, part, where, ours[prop], theirs[prop], direction)
        if direction == "request":
            ours_required = set(contract.get("required", []))
            theirs_required = set(code.get("required", []))
            for prop in theirs_required - ours_required:
                where = f"{prefix}.{prop}" if prefix else prop
                self._add(label, part, where, "optional", "required", BREAKING)
            for prop in (ours_required - theirs_required) & theirs.keys():
                where = f"{prefix}.{prop}" if prefix else prop
                self._add(label, part, where, "required", "optional", SAFE)

    def _in_some_response(self, prop: str) -> bool:
        """Is `prop` a field the contract knows, though not in this request body?"""
        for schema in self.contract.get("components", {}).get("schemas", {}).values():
            if prop in schema.get("properties", {}):
                return True
        return False

    def _scalar(self, label, part, field, contract, code, direction) -> None:
        looser, stricter, other = [], [], []
        for key in COMPARED[1:]:
            ours, theirs = contract.get(key), code.get(key)
            if ours == theirs or (key == "nullable" and bool(ours) == bool(theirs)):
                continue
            verdict = _compare(key, ours, theirs)
            {"looser": looser, "stricter": stricter, "other": other}[verdict].append(key)
        if not (looser or stricter or other):
            return
        risky = looser if direction == "response" else stricter
        severity = BREAKING if (risky or other) else SAFE
        keys = [k for k in COMPARED[1:] if k in looser + stricter + other]
        self._add(
            label,
            part,
            field,
            _facts(contract, keys),
            _facts(code, keys),
            severity,
        )


def _compare(key: str, ours, theirs) -> str:
    """Is the code's value of `key` looser than, stricter than, or unlike the contract's?"""
    if key == "nullable":
        return "looser" if theirs else "stricter"
    if ours is None:
        return "stricter"
    if theirs is None:
        return "looser"
    if key in ("maxLength", "maximum"):
        return "looser" if theirs > ours else "stricter"
    if key == "minimum":
        return "looser" if theirs < ours else "stricter"
    if key == "enum":
        if set(theirs) > set(ours):
            return "looser"
        if set(theirs) < set(ours):
            return "stricter"
    return "other"


def _facts(schema: dict, keys: list[str]) -> str:
    parts = [schema.get("type", "any")]
    for key in keys:
        value = schema.get(key)
        if key == "nullable":
            parts.append("nullable" if value else "not nullable")
        elif value is None:
            parts.append(f"no {key}")
        elif key == "pattern":
            parts.append(f"pattern `{value}`")
        else:
            parts.append(f"{key} {_show(value)}")
    return ", ".join(parts)


def _json_schema(holder: dict | None) -> dict | None:
    content = (holder or {}).get("content", {})
    return content.get("application/json", {}).get("schema")


def _operation_order(key: tuple[str, str]) -> tuple[str, int]:
    return key[0], METHODS.index(key[1])


# -- the report --------------------------------------------------------------------------


def grouped(findings: list[Finding]) -> list[tuple[Finding, list[str]]]:
    """One row per difference: the same field of the same component, seen by several
    operations, is one discrepancy to decide on, not four."""
    rows: dict[tuple, tuple[Finding, list[str]]] = {}
    for finding in findings:
        where = finding.field or finding.operation + finding.part
        if finding.part.startswith("response 4") and not finding.field:
            where = "error responses"  # one decision: document the errors, or not
        key = (finding.part.split(" ")[0], where, finding.contract, finding.code)
        if key not in rows:
            rows[key] = (finding, [])
        rows[key][1].append(f"{finding.operation} ({finding.part})")
    return list(rows.values())


def report(label: str, contract_path: str, findings: list[Finding], version: str) -> str:
    rows = grouped(findings)
    breaking = sum(1 for finding, _ in rows if finding.severity == BREAKING)
    # No heading: the handbook page embeds this file under its own headings.
    lines = [
        f"**Contract audit of {label}.** "
        f"The contract `{contract_path}` compared with the schema drf-spectacular {version} "
        f"generates from the code. **{len(rows)} discrepanc{'y' if len(rows) == 1 else 'ies'}: "
        f"{breaking} breaking, "
        f"{len(rows) - breaking} non-breaking** for a consumer who trusts the contract.",
        "",
    ]
    if not rows:
        lines.append("The code's schema promises what the contract promises.")
        return "\n".join(lines) + "\n"
    lines += [
        "| # | Field | Contract says | Code does | Severity | Seen in |",
        "|---|-------|---------------|-----------|----------|---------|",
    ]
    for number, (finding, where) in enumerate(rows, start=1):
        field = f"`{finding.field}`" if finding.field else f"*{finding.part}*"
        if finding.part.startswith("response 4") and not finding.field:
            field = "*error responses*"
        seen = "<br>".join(where)
        lines.append(
            f"| {number} | {field} | {_cell(finding.contract)} | {_cell(finding.code)} | "
            f"{finding.severity} | {seen} |"
        )
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def audit(target_path: Path, label: str) -> str:
    import drf_spectacular
    import yaml

    from drillkit.catalog import shown

    contract_file = target_path / CONTRACT
    if not contract_file.is_file():
        from drillkit.errors import DrillError

        raise DrillError(
            f"{shown(contract_file)} is missing. The contract lives next to the code in every "
            "drill1 target; copy it back from drill_code/drill1_contracts/starter/openapi.yaml."
        )
    contract = yaml.safe_load(contract_file.read_text(encoding="utf-8"))
    findings = Auditor(contract, generated_schema(target_path)).run()
    return report(label, shown(contract_file), findings, drf_spectacular.__version__)


# -- the "PR": starter -> solution --------------------------------------------------------


def pr_diff() -> str:
    """The reference fixes as one unified diff, the way a reviewer reads a pull request."""
    starter, solution = HERE / "starter", HERE / "solution"

    def files(root: Path) -> set[str]:
        return {
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and not any(part in str(p) for part in NOT_IN_DIFF)
        }

    chunks = []
    for name in sorted(files(starter) | files(solution)):
        before = (starter / name).read_text().splitlines(True) if (starter / name).exists() else []
        after = (solution / name).read_text().splitlines(True) if (solution / name).exists() else []
        chunks += difflib.unified_diff(
            before,
            after,
            fromfile=f"a/{name}" if before else "/dev/null",
            tofile=f"b/{name}" if after else "/dev/null",
        )
    # A blank context line is a lone space; drop trailing blanks so the page shows the
    # file exactly (Markdown strips them), as `git diff` users see it anyway.
    return "".join(line.rstrip() + "\n" for line in "".join(chunks).splitlines())


# -- command line ------------------------------------------------------------------------


def outputs() -> dict[Path, str]:
    """Everything results/ holds, computed from the code as it is now."""
    from drillkit.catalog import get_drill
    from drillkit.targets import resolve_target

    drill = get_drill("drill1")
    produced = {}
    for which in ("starter", "solution"):
        target = resolve_target(drill, which)
        produced[RESULTS / f"{which}-discrepancies.md"] = audit(target.path, which)
    produced[RESULTS / "starter-to-solution.diff"] = pr_diff()
    return produced


def main(argv: list[str]) -> int:
    from drillkit.catalog import get_drill, shown
    from drillkit.targets import resolve_target

    parser = argparse.ArgumentParser(prog="nox -s audit -- drill1")
    parser.add_argument("--target", help="starter, solution, or the folder of your copy")
    parser.add_argument("--check", action="store_true", help="verify results/ is up to date")
    options = parser.parse_args(argv)
    if options.target and options.target not in ("starter", "solution"):
        target = resolve_target(get_drill("drill1"), options.target)
        text = audit(target.path, target.label)
        (target.path / REPORT).write_text(text, encoding="utf-8")
        print(text)
        print(f"Written to {shown(target.path / REPORT)}.")
        return 0
    produced = outputs()
    if options.check:
        stale = [p for p, text in produced.items() if _read(p) != text]
        for path in stale:
            print(f"{shown(path)} is out of date.", file=sys.stderr)
        if stale:
            print("Regenerate with `nox -s audit -- drill1` and commit results/.", file=sys.stderr)
            return 1
        print(f"results/ is up to date ({len(produced)} files).")
        return 0
    RESULTS.mkdir(exist_ok=True)
    for path, text in produced.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {shown(path)}")
    if options.target:
        print(produced[RESULTS / f"{options.target}-discrepancies.md"])
    return 0


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--generate":
        sys.path.insert(0, str(DRILL_CODE))
        _generate_here(Path(sys.argv[2]))
    else:
        sys.exit(main(sys.argv[1:]))
