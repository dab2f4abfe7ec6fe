"""The floors of WORKSPACE.md are true: no module imports a package on its own floor or above."""

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "fakenas_jax"
ALLOWED_UPWARD = {("data", "tfds_builders")}  # builder discovery (WORKSPACE.md, Floors)


def floors() -> dict[str, int]:
  text = (ROOT / "WORKSPACE.md").read_text()
  section = text.split("## Floors", 1)[1].split("\n## ", 1)[0]
  result = {}
  for match in re.finditer(r"^(\d+)\. (.+)$", section, re.M):
    for name in re.findall(r"`(\w+)`", match.group(2)):
      result[name] = int(match.group(1))
  return result


def imports_of(path: pathlib.Path) -> set[str]:
  """The fakenas_jax parts (first name below the package) and tfds_builders a module imports."""
  found = set()
  for node in ast.walk(ast.parse(path.read_text())):
    names = []
    if isinstance(node, ast.Import):
      names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
      names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    for name in names:
      parts = name.split(".")
      if parts[0] == "tfds_builders":
        found.add("tfds_builders")
      elif parts[0] == "fakenas_jax" and len(parts) > 1:
        found.add(parts[1])
  return found


def part_of(path: pathlib.Path) -> str:
  relative = path.relative_to(PACKAGE)
  return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def test_every_part_has_a_floor():
  table = floors()
  parts = {
    part_of(p)
    for p in PACKAGE.rglob("*.py")
    if p.name != "__init__.py" or len(p.relative_to(PACKAGE).parts) > 1
  }
  assert parts - {"__init__"} <= set(table), f"parts without a floor: {parts - set(table)}"


def test_no_module_imports_its_own_floor_or_above():
  table = floors()
  wrong = []
  for path in PACKAGE.rglob("*.py"):
    part = part_of(path)
    if part == "__init__":
      continue
    for imported in imports_of(path) - {part}:
      if (part, imported) in ALLOWED_UPWARD:
        continue
      if imported == "tfds_builders" or table.get(imported, -1) >= table[part]:
        wrong.append(
          f"{path.relative_to(ROOT)} ({part}, floor {table[part]}) imports "
          f"{imported} (floor {table.get(imported)})"
        )
  assert not wrong, "\n".join(wrong)


def test_the_floor_checker_sees_a_violation(tmp_path):
  module = tmp_path / "m.py"
  module.write_text("from fakenas_jax.eval import report\nimport fakenas_jax.nas.search\n")
  assert imports_of(module) == {"eval", "nas"}
