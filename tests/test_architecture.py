"""The dependency rule (docs/ARCHITECTURE.md) covers every module and holds.

`lint-imports` checks the layers contract in CI; a module that no layer names would
be checked by nobody, so every module of the apps must be placed in one.
"""

from pathlib import Path

import grimp
from importlinter.api import read_configuration

ROOT = Path(__file__).resolve().parent.parent


def _contract():
    configuration = read_configuration(str(ROOT / "pyproject.toml"))
    [contract] = [c for c in configuration["contracts_options"] if c["id"] == "layers"]
    return configuration, contract


def _layers(contract) -> list[set[str]]:
    return [
        {name.strip() for name in layer.replace("|", ":").split(":") if name.strip()} for layer in contract["layers"]
    ]


def _placed(module: str, listed: set[str]) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in listed)


def test_every_module_is_in_a_layer():
    configuration, contract = _contract()
    listed = set().union(*_layers(contract))
    graph = grimp.build_graph(*configuration["session_options"]["root_packages"], cache_dir=None)
    # A package that holds listed modules (tickets, escalation.sla, …) is only its __init__.
    parents = {name.rsplit(".", n)[0] for name in listed for n in range(1, name.count(".") + 1)}
    unplaced = sorted(m for m in graph.modules if not _placed(m, listed) and m not in parents)
    assert not unplaced, f"Place these in a layer of [tool.importlinter] in pyproject.toml: {unplaced}"


def test_package_inits_hold_no_code():
    # Unlisted package __init__ modules could hide an import across the layers: keep them empty.
    _, contract = _contract()
    listed = set().union(*_layers(contract))
    parents = {name.rsplit(".", n)[0] for name in listed for n in range(1, name.count(".") + 1)}
    for package in sorted(parents - listed):
        init = ROOT / package.replace(".", "/") / "__init__.py"
        code = [line for line in init.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
        assert not [line for line in code if "import" in line], f"{init} imports something; move it into a module"


def test_the_layers_are_the_documented_six():
    _, contract = _contract()
    layers = _layers(contract)
    assert len(layers) == 6
    entry, automation, actions, sla, outbox, core = layers
    assert {"escalation.automation", "escalation.rules", "escalation.sla.sweep"} <= automation
    assert {"tickets.services", "escalation.services"} <= actions
    assert "escalation.sla.services" in sla
    assert "tickets.notifications.services" in outbox
    assert {"tickets.models", "tickets.events", "tickets.locks", "tickets.transitions"} <= core
    assert "ignore_imports" not in contract  # no import is excused
