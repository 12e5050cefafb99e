import subprocess
import sys

import pytest
import yaml

from modelraising.charter import CharterError, load_charter, parse_charter


def _default_dict(charter_path):
    return yaml.safe_load(charter_path.read_text())


def test_default_charter_is_valid_and_complete(charter):
    ids = {v.id for v in charter.values}
    assert {"honesty", "care", "fairness", "stewardship", "humility", "curiosity", "non_harm"} <= ids
    assert {c.role for c in charter.cast} >= {"mentor", "family", "peer", "teacher"}
    assert charter.stages[-1].ceiling == 1.0
    assert charter.policy in ("reflect", "recontextualize", "drop")


def test_hash_ignores_formatting_but_not_content(charter, charter_path, tmp_path):
    data = _default_dict(charter_path)
    reordered = tmp_path / "reordered.yaml"
    reordered.write_text(yaml.safe_dump(dict(reversed(list(data.items()))), default_flow_style=True))
    assert load_charter(reordered).hash == charter.hash
    data["values"][0]["why"] += " Always."
    assert parse_charter(data).hash != charter.hash


def test_each_problem_names_its_field(charter_path):
    data = _default_dict(charter_path)
    data["values"][3]["statement"] = "Responsibility matters a great deal."
    data["cast"][0]["role"] = "boss"
    data["stages"][0]["ceiling"] = 2
    data["values"][0]["colour"] = "blue"
    del data["identity"]["name"]
    with pytest.raises(CharterError) as info:
        parse_charter(data, "bad.yaml")
    problems = info.value.problems
    assert 'values[3].statement: must be written in the first person ("I ...")' in problems
    assert any(p.startswith("cast[0].role: must be one of mentor, family, peer") for p in problems)
    assert any(p.startswith("stages[0].ceiling:") for p in problems)
    assert any(p.startswith("values[0].colour: is not a charter field") for p in problems)
    assert "identity.name: is required" in problems
    assert len(problems) == 5


def test_cross_field_rules(charter_path):
    data = _default_dict(charter_path)
    data["values"][1]["id"] = "honesty"
    data["stages"][1]["ceiling"] = 0.1
    with pytest.raises(CharterError) as info:
        parse_charter(data)
    assert "values[1].id: 'honesty' is already the id of values[0] (ids must be unique)" in info.value.problems
    assert any(p.startswith("stages[1].ceiling: must be greater than stages[0].ceiling") for p in info.value.problems)
    assert not any("top level" in p for p in info.value.problems)


def test_every_problem_is_listed_at_once(charter_path):
    """Issue 16: six problems gave four lines, the duplicate id and the ceilings only after those were fixed."""
    data = _default_dict(charter_path)
    data["values"][3]["statement"] = "Responsibility matters a great deal."
    data["cast"][0]["role"] = "boss"
    del data["identity"]["name"]
    data["values"][0]["colour"] = "blue"
    data["values"][2]["id"] = data["values"][0]["id"]
    data["stages"][1]["ceiling"] = data["stages"][0]["ceiling"]
    data["stages"][-1]["ceiling"] = 0.99
    with pytest.raises(CharterError) as info:
        parse_charter(data, "bad.yaml")
    problems = info.value.problems
    assert len(problems) == 7, problems
    assert f"values[2].id: {data['values'][0]['id']!r} is already the id of values[0] (ids must be unique)" in problems
    assert any(p.startswith("stages[1].ceiling: must be greater than stages[0].ceiling") for p in problems)
    assert f"stages[{len(data['stages']) - 1}].ceiling: must be 1.0 (the last stage takes every document)" in problems
    assert all(not p.startswith("(top level)") for p in problems)


def test_unreadable_charter_is_one_problem_not_a_traceback(tmp_path):
    with pytest.raises(CharterError) as info:
        load_charter(tmp_path)  # a directory where the file belongs
    assert info.value.problems == ["is a directory, not a charter file"]


def test_yaml_syntax_error_gives_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("identity:\n  name: [unclosed\n")
    with pytest.raises(CharterError) as info:
        load_charter(bad)
    assert "line" in info.value.problems[0] and "YAML" in info.value.problems[0]


def test_cli_validate_exit_codes(charter_path, tmp_path):
    ok = subprocess.run(
        [sys.executable, "-m", "modelraising", "charter", "validate", str(charter_path)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "ok" in ok.stdout
    data = _default_dict(charter_path)
    data["values"][2]["statement"] = "Fairness is good."
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    res = subprocess.run(
        [sys.executable, "-m", "modelraising", "charter", "validate", str(bad)], capture_output=True, text=True
    )
    assert res.returncode == 2
    assert 'values[2].statement: must be written in the first person ("I ...")' in res.stderr


def test_cli_show_json_has_hash(charter_path, charter):
    res = subprocess.run(
        [sys.executable, "-m", "modelraising", "charter", "show", "--json", str(charter_path)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert f'"hash": "{charter.hash}"' in res.stdout
