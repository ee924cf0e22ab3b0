"""Dependencies point one way: clinics <- patients <- compliance <- messaging, billing.

Every module of every app is parsed (never imported, so nothing runs) and each import is checked:
an app may import itself and the apps below it; `messaging` and `billing` sit side by side and do
not import each other; nothing in the apps imports `devtools` (production leaves it out), which
may import anything, as may `config`. A lower app that needs a higher one offers a registry
(`clinics/registry.py`) or a signal instead.

Imports under `if TYPE_CHECKING:` count too: a type hint naming a higher app's class is the lower
app knowing about the higher one, even if it costs nothing at run time. Imports inside functions
count (hiding an import in a function does not remove the dependency), and so does
`importlib.import_module("...")` with a literal name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# Lower numbers are lower in the stack; apps of equal rank are siblings.
APP_RANKS = {"clinics": 0, "patients": 1, "compliance": 2, "messaging": 3, "billing": 3}
DEVTOOLS = "devtools"

# Known offenders, to be emptied: "path:line imported.module" for each import the rule refuses
# today in a file another change is fixing. Nothing is listed: add an entry only with the name of
# the change that removes it, and remove it when that change lands.
KNOWN_OFFENDERS: set[str] = set()


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    module: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}: {self.reason}"

    @property
    def key(self) -> str:
        return f"{self.path}:{self.line} {self.module}"


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in the tree, wherever it sits."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:  # relative imports stay inside the package
                yield node.lineno, node.module
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def refusal(importer: str, imported_module: str) -> str:
    """Why `importer` (an app) may not import this module, or "" when it may."""
    imported = imported_module.split(".")[0]
    if imported == importer:
        return ""
    if imported == DEVTOOLS:
        return "the apps never import devtools (production settings leave it out)"
    if imported not in APP_RANKS:
        return ""
    if APP_RANKS[imported] > APP_RANKS[importer]:
        return f"{importer} is below {imported}: offer a registry or a signal in {importer}"
    if APP_RANKS[imported] == APP_RANKS[importer]:
        return f"{importer} and {imported} are siblings and do not import each other"
    return ""


def check_source(app: str, path: str, source: str) -> list[Violation]:
    """The refused imports in one module of `app`."""
    tree = ast.parse(source, filename=path)
    return [
        Violation(path, line, module, reason)
        for line, module in imported_modules(tree)
        if (reason := refusal(app, module))
    ]


def app_violations(root: Path = REPO_ROOT) -> list[Violation]:
    found = []
    for app in APP_RANKS:
        for path in sorted((root / app).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            found += check_source(app, relative, path.read_text(encoding="utf-8"))
    return found


def test_no_app_imports_a_higher_one_or_devtools():
    found = app_violations()
    unexpected = [str(v) for v in found if v.key not in KNOWN_OFFENDERS]
    assert not unexpected, "Imports against the one-way rule:\n" + "\n".join(unexpected)
    fixed = KNOWN_OFFENDERS - {v.key for v in found}
    assert not fixed, f"Fixed: remove from KNOWN_OFFENDERS: {sorted(fixed)}"


def test_every_app_is_checked():
    for app in APP_RANKS:
        assert (REPO_ROOT / app / "apps.py").exists(), app
    assert (REPO_ROOT / DEVTOOLS / "apps.py").exists()


PLANTED = """
from __future__ import annotations

from typing import TYPE_CHECKING

from clinics.models import Clinic
from . import sibling_module

if TYPE_CHECKING:
    from compliance.models import ConsentEvent


def later():
    import messaging.models
    from devtools.whatsapp_simulator import Simulator
    return importlib.import_module("billing.models")
"""


def test_the_check_refuses_planted_imports_of_higher_apps_and_devtools():
    found = check_source("patients", "patients/planted.py", PLANTED)
    assert [(v.line, v.module) for v in found] == [
        (10, "compliance.models"),  # under TYPE_CHECKING: still a dependency
        (14, "messaging.models"),  # inside a function: still a dependency
        (15, "devtools.whatsapp_simulator"),
        (16, "billing.models"),
    ]
    assert "offer a registry" in found[0].reason
    assert "never import devtools" in found[2].reason


@pytest.mark.parametrize(
    ("importer", "module", "allowed"),
    [
        ("clinics", "patients.models", False),
        ("patients", "clinics.registry", True),
        ("compliance", "patients.selectors", True),
        ("patients", "compliance.services", False),
        ("messaging", "billing.models", False),
        ("billing", "messaging.services", False),
        ("billing", "compliance.models", True),
        ("messaging", "devtools", False),
        ("messaging", "django.db", True),
    ],
)
def test_the_order_of_the_apps(importer, module, allowed):
    assert (refusal(importer, module) == "") is allowed


def test_the_check_fails_on_a_tree_with_a_back_arrow(tmp_path):
    for app in APP_RANKS:
        (tmp_path / app).mkdir()
        (tmp_path / app / "__init__.py").write_text("")
    (tmp_path / "clinics" / "dashboard.py").write_text("from patients.models import Patient\n")
    (tmp_path / "patients" / "views.py").write_text("from clinics.models import Clinic\n")
    assert [str(v) for v in app_violations(tmp_path)] == [
        "clinics/dashboard.py:1 imports patients.models: clinics is below patients: offer a "
        "registry or a signal in clinics"
    ]
