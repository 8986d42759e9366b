"""The layout rule (ADR 13), checked on the code as it is: where a rule lives is found from the
folder names alone, and a capability's tables and SQL stay private to it.

- No module of `services/`, `libs/` or `contracts/` (migrations and tests aside) passes 400 lines.
- In a service made of capability packages (the gateway, the messenger, the ai), a capability never
  imports another's private modules (`models`, `repository`, `*_repository`, `hot_reads`), nor
  `app` or `tables` (the wiring imports capabilities, never the other way round).
- Layers point one way: a repository or models module imports no service, handlers or API module,
  and only API modules import API modules.
- SQL text names another capability's table only where the read is listed below, with its reason.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Table

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400
SERVICES = {
    "crm_gateway": ROOT / "services/gateway/src/crm_gateway",
    "crm_messenger": ROOT / "services/messenger/src/crm_messenger",
    "crm_ai": ROOT / "services/ai/src/crm_ai",
}
# Sub-packages that are no capability: the schema's history, and clients of other services' APIs.
NOT_CAPABILITIES = {"migrations", "clients", "meta"}
PRIVATE = re.compile(r"^(models|repository|\w+_repository|hot_reads)$")
# `auth.permissions` holds the role matrix and `allow()`, the dependency every route declares: API.
API = re.compile(r"^(api|\w+_api|permissions)$")
LOWER_LAYERS = {"service", "handlers"}

# (module, capability whose table its SQL text names): each a read kept in one statement on purpose.
CROSS_CAPABILITY_READS = {
    # The customer 360 sums the customer's orders in the same round trip as the rest (ADR 12).
    ("crm_gateway.customers.hot_reads", "orders"),
}


@dataclass(frozen=True)
class Module:
    name: str  # crm_gateway.customers.merges
    path: Path

    @property
    def parts(self) -> list[str]:
        return self.name.split(".")

    @property
    def capability(self) -> str | None:
        parts = self.parts
        if len(parts) > 2 and parts[1] not in NOT_CAPABILITIES:
            return parts[1]
        return None

    @property
    def leaf(self) -> str:
        return self.parts[-1]

    def imports(self) -> Iterator[str]:
        """Every module (or module.attribute) this module imports, as absolute dotted names."""
        tree = ast.parse(self.path.read_text())
        package = self.parts if self.path.name == "__init__.py" else self.parts[:-1]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
                yield base
                yield from (f"{base}.{alias.name}" for alias in node.names)


def modules(top: str) -> list[Module]:
    root = SERVICES[top]
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent)
        if "migrations" in relative.parts:
            continue
        dotted = ".".join(relative.with_suffix("").parts)
        found.append(Module(dotted.removesuffix(".__init__"), path))
    return found


def source_files() -> list[Path]:
    files = []
    for top in ("services", "libs", "contracts"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).parts
            if "migrations" in parts or "tests" in parts or ".venv" in parts:
                continue
            files.append(path)
    return sorted(files)


def test_no_module_passes_400_lines() -> None:
    files = source_files()
    assert len(files) > 100, "the walk finds the code"
    long = {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}, "split these by what they do (sub-capability), not by layer: see docs/adr/"


def _broken_rules(module: Module) -> Iterator[str]:
    top = module.parts[0]
    own = module.capability
    for parts in {tuple(target.split(".")[:3]) for target in module.imports()}:
        target = ".".join(parts)
        if parts[0] != top or len(parts) < 2:
            continue
        if own is not None and parts[1] in {"app", "tables"}:
            yield f"{module.name} imports {target} (only the wiring imports capabilities)"
        other = parts[1] if parts[1] not in NOT_CAPABILITIES and len(parts) > 2 else None
        leaf = parts[2] if len(parts) > 2 else ""
        if own is not None and other is not None and other != own and PRIVATE.match(leaf):
            yield f"{module.name} imports {target}: use the {other} capability's service instead"
        upward = leaf in LOWER_LAYERS or API.match(leaf)
        if other is not None and other == own and PRIVATE.match(module.leaf) and upward:
            yield f"{module.name} imports {target}: a repository or models module calls no rule"
        if other is not None and API.match(leaf) and not API.match(module.leaf) and own is not None:
            yield f"{module.name} imports {target}: only API modules import API modules"


@pytest.mark.parametrize("top", sorted(SERVICES))
def test_capabilities_use_each_other_only_through_their_services(top: str) -> None:
    found = modules(top)
    capabilities = {m.capability for m in found} - {None}
    assert len(capabilities) >= 4, f"{top} is made of capability packages"
    broken = [rule for module in found for rule in _broken_rules(module)]
    assert broken == []


def _tables_by_capability(top: str) -> dict[str, str]:
    """`schema.table` → the capability whose models define it."""
    owners = {}
    for module in modules(top):
        if module.leaf == "models" and module.capability:
            for value in vars(importlib.import_module(module.name)).values():
                if isinstance(value, Table):
                    owners[f"{value.schema}.{value.name}"] = module.capability
    return owners


@pytest.mark.parametrize("top", sorted(SERVICES))
def test_sql_text_names_another_capabilitys_table_only_where_listed(top: str) -> None:
    owners = _tables_by_capability(top)
    assert owners, "every capability's tables are found"
    longest_first = sorted(owners, key=len, reverse=True)
    named = re.compile(r"\b(" + "|".join(re.escape(table) for table in longest_first) + r")\b")
    crossing = set()
    for module in modules(top):
        if module.capability is None or module.leaf == "models":
            continue  # a foreign key to another capability's table is no read of it
        for node in ast.walk(ast.parse(module.path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for table in named.findall(node.value):
                    if owners[table] != module.capability:
                        crossing.add((module.name, owners[table]))
    assert crossing - CROSS_CAPABILITY_READS == set()
    listed = {read for read in CROSS_CAPABILITY_READS if read[0].startswith(f"{top}.")}
    stale = listed - crossing
    assert stale == set(), "a listed read no longer crosses: take it off the list"
