"""``cosell`` loads only the module of the command it runs (issue 13, item 6): the command line is
most of a small run's time, and building every command (and what each imports) for one of them is
waste. ``cosell --help`` lists every command from :data:`cosell.cli.app.COMMAND_MODULES` without
loading any; the table is held here to what the modules register and to their help texts.
Each process check runs ``cosell`` in a fresh process: a module this session imported would
otherwise hide an import.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from typer.testing import CliRunner

from cosell.cli.app import COMMAND_MODULES, app, load_commands

# Runs ``cosell ARGS`` and writes, at exit, the modules the process had loaded to the file given first.
DRIVER = """
import atexit, json, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["cosell", *sys.argv[2:]]
from cosell.cli.app import main
main()
"""


def run(tmp_path: Path, *args: str) -> tuple[str, set[str]]:
    """``cosell *args`` in a new process (exit 0 expected): its stdout and the modules it loaded."""
    loaded = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(loaded), *args],
        capture_output=True,
        text=True,
        env={"COLUMNS": "300", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, set(json.loads(loaded.read_text()))


def command_modules(modules: set[str]) -> set[str]:
    return {
        m.removeprefix("cosell.cli.") for m in modules if m.startswith("cosell.cli.") and m.endswith("_cmd")
    }


def test_a_command_loads_its_own_module_only(tmp_path: Path) -> None:
    out, modules = run(tmp_path, "attribute", "--help")
    assert "--data" in out  # the real command's help, options and all
    assert command_modules(modules) == {"attribute_cmd"}
    for other in ("cosell.reports", "cosell.crm", "cosell.pay", "cosell.referrals", "cosell.hygiene"):
        assert not any(m == other or m.startswith(other + ".") for m in modules), other


def test_a_group_loads_its_module_and_what_joins_it(tmp_path: Path) -> None:
    # referrals' channel commands (email, slack) are defined in their own module and attached to
    # the group by the group's module.
    out, modules = run(tmp_path, "referrals", "--help")
    assert "email" in out and "slack" in out
    assert command_modules(modules) == {"referrals_cmd", "referral_channels_cmd"}


def test_help_lists_every_command_with_its_line_and_loads_none(tmp_path: Path) -> None:
    out, modules = run(tmp_path, "--help")
    assert command_modules(modules) == set()
    panel = out.split("Commands", 1)[1].splitlines()
    listed = [line.split()[1] for line in panel if line.startswith("│ ") and line[2] != " "]
    assert listed == list(COMMAND_MODULES)
    for name, (_, line) in COMMAND_MODULES.items():
        assert line[:60] in out, name


def test_the_table_names_what_each_module_registers() -> None:
    by_module: dict[str, set[str]] = defaultdict(set)
    for name, (module, _) in COMMAND_MODULES.items():
        by_module[module].add(name)
    cli = Path(__file__).parents[2] / "src" / "cosell" / "cli"
    # Every command module is in the table: a new one cannot be left out of ``cosell``.
    assert set(by_module) == {p.stem for p in cli.glob("*_cmd.py")} - {"referral_channels_cmd"}
    for module, names in by_module.items():
        assert set(load_commands(module)) == names, module


def test_each_listed_line_is_the_first_paragraph_of_the_commands_help() -> None:
    for name, (module, line) in COMMAND_MODULES.items():
        command = load_commands(module)[name]
        assert (command.help or "").split("\n\n")[0] == line, name


def test_a_mistyped_command_is_still_suggested() -> None:
    result = CliRunner().invoke(app, ["atribute"])
    assert result.exit_code == 2
    assert "Did you mean 'attribute'?" in result.output


# Prints, as JSON, every command path under each top-level command, the command loaded alone in a
# fresh set of command modules (as a process running it loads it), and then with every module loaded.
WALK = """
import importlib, json, sys, typer
from cosell.cli import app as cli

def walk(command, path):
    found = [path]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found += walk(sub, path + " " + name)
    return found

alone = {}
for name in cli.COMMAND_MODULES:
    for module in [m for m in sys.modules if m.startswith("cosell.cli.") and m.endswith("_cmd")]:
        del sys.modules[module]  # its Typer objects are made again, with no other module's commands
    root = typer.main.get_command(cli.app)
    alone[name] = walk(root.get_command(typer.Context(root), name), name)
for module, _ in cli.COMMAND_MODULES.values():
    importlib.import_module("cosell.cli." + module)
root = typer.main.get_command(cli.app)
together = {name: walk(root.get_command(typer.Context(root), name), name) for name in cli.COMMAND_MODULES}
print(json.dumps([alone, together]))
"""


def test_a_command_loaded_alone_has_every_subcommand() -> None:
    # A group may hold commands defined in another module (import salesforce|hubspot in crm_cmd):
    # the group's module attaches them, or they would be missing when the group runs alone.
    done = subprocess.run([sys.executable, "-c", WALK], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    alone, together = json.loads(done.stdout)
    assert "import salesforce" in together["import"] and "referrals email" in together["referrals"]
    assert alone == together
