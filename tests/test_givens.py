"""Givens files: the numbers of a problem, and clear errors that name file, line and field."""

from pathlib import Path

import pytest

from chainrule.api import network_setup
from chainrule.errors import InputError
from chainrule.io.givens import load_givens, resolve_givens
from chainrule.symbolic.network import Network

NOTES = Path(__file__).resolve().parents[1] / "examples" / "notes-2-2-1.yaml"


def write(tmp_path, text):
    path = tmp_path / "g.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_notes_example_resolves_every_given():
    net = Network("2-2-1")
    values = resolve_givens(load_givens(NOTES), net.givens(updates=True))
    assert values["x1"] == 1 and values["x2"] == 0 and values["y"] == 1
    assert values["w13"] == 0.7 and values["eta"] == 0.1
    assert set(values) == set(net.givens(updates=True))


def test_list_and_scalar_forms_agree(tmp_path):
    net = Network("2-1", output="sigmoid")
    a = write(tmp_path, "x: [1, 2]\ny: 1\nw11: 1\nw21: 2\nb1: 0\n")
    b = tmp_path / "b.yaml"
    b.write_text("x1: 1\nx2: 2\ny: [1]\nw11: 1\nw21: 2\nb1: 0\n")
    expected = net.givens(updates=False)
    assert resolve_givens(load_givens(a), expected) == resolve_givens(load_givens(b), expected)


def test_missing_weight_is_named(tmp_path):
    path = write(tmp_path, NOTES.read_text().replace("w13: 0.7\n", ""))
    with pytest.raises(InputError) as err:
        network_setup(givens=str(path))
    assert "w13" in str(err.value) and str(path) in str(err.value)
    assert err.value.field == "w13"


def test_unknown_key_has_line_and_suggestion(tmp_path):
    path = write(tmp_path, "net: 2-2-1\nx: [1, 0]\ny: 1\nw113: 0.1\n")
    with pytest.raises(InputError) as err:
        network_setup(givens=str(path))
    message = str(err.value)
    assert "line 4" in message and "w113" in message and "did you mean" in message


def test_not_a_number_names_line_and_field(tmp_path):
    path = write(tmp_path, NOTES.read_text().replace("w21: 0.4", "w21: lots"))
    with pytest.raises(InputError) as err:
        network_setup(givens=str(path))
    line = NOTES.read_text().splitlines().index("w21: 0.4") + 1
    assert err.value.line == line and err.value.field == "w21"
    assert "not a number" in str(err.value)


def test_invalid_yaml_names_line(tmp_path):
    path = write(tmp_path, "net: 2-2-1\nx: [1, 0\ny: 1\n")
    with pytest.raises(InputError) as err:
        load_givens(path)
    assert "not valid YAML" in str(err.value) and err.value.line is not None


def test_duplicate_key(tmp_path):
    path = write(tmp_path, "x: [1, 0]\nx: [0, 1]\n")
    with pytest.raises(InputError, match="appears twice"):
        load_givens(path)


def test_not_a_mapping(tmp_path):
    with pytest.raises(InputError, match="mapping"):
        load_givens(write(tmp_path, "- 1\n- 2\n"))


def test_empty_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="empty"):
        load_givens(write(tmp_path, ""))
    with pytest.raises(InputError, match="no such file"):
        load_givens(tmp_path / "nope.yaml")


def test_wrong_list_length(tmp_path):
    path = write(tmp_path, NOTES.read_text().replace("x: [1, 0]", "x: [1, 0, 3]"))
    with pytest.raises(InputError, match="has 3 values, the network needs 2"):
        network_setup(givens=str(path))


def test_string_numbers_parse_safely(tmp_path):
    path = write(tmp_path, NOTES.read_text().replace("w21: 0.4", "w21: '2/5'"))
    problem = network_setup(givens=str(path))
    assert problem.givens is not None and problem.givens["w21"] == 0.4


def test_options_override_the_file():
    problem = network_setup(givens=str(NOTES), eta=0.5, decimals=4)
    assert problem.givens is not None and problem.givens["eta"] == 0.5
    assert problem.decimals == 4 and problem.updates


def test_no_eta_means_no_updates(tmp_path):
    path = write(tmp_path, NOTES.read_text().replace("eta: 0.1\n", ""))
    problem = network_setup(givens=str(path))
    assert not problem.updates and problem.givens is not None and "eta" not in problem.givens


def test_class_targets_must_be_a_distribution(tmp_path):
    text = ("net: 2-2\noutput: softmax\nloss: cce\nx: [1, 0]\ny: [1, 1]\n"
            "w11: 0.1\nw21: 0.2\nb1: 0.1\nw12: 0.3\nw22: 0.1\nb2: 0.2\n")
    with pytest.raises(InputError, match="summing to 1") as err:
        network_setup(givens=str(write(tmp_path, text)))
    assert err.value.field == "y" and err.value.line == 5
    ok = network_setup(givens=str(write(tmp_path, text.replace("[1, 1]", "[0, 1]"))))
    assert ok.givens is not None and ok.givens["y2"] == 1


# --- undefined loss and output pairs are refused as generated problems refuse them ---------

def _notes_with(tmp_path, output=None, loss=None, name="pair.yaml"):
    text = NOTES.read_text()
    if output is not None:
        text = text.replace("output: sigmoid\n", f"output: {output}\n")
    if loss is not None:
        text = text.replace("loss: bce\n", f"loss: {loss}\n")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(path, prefix):
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(prefix))


@pytest.mark.parametrize("output,loss,need", [
    ("linear", None, "(0, 1)"), ("tanh", None, "(0, 1)"),
    ("sigmoid", "cce", "sum to 1"), ("tanh", "kl", "sum to 1"), ("linear", "lsce", "sum to 1"),
])
@pytest.mark.parametrize("command", [["walkthrough", "--givens"], ["derive", "bce", "--at"],
                                     ["check"]])
def test_cli_refuses_an_undefined_pair_naming_file_line_field(tmp_path, command, output,
                                                              loss, need):
    from click.testing import CliRunner

    from chainrule.cli import main

    if command[0] == "derive" and loss is not None:
        command = ["derive", loss, "--at"]  # derive's loss argument wins over the file's
    path = _notes_with(tmp_path, output, loss)
    result = CliRunner().invoke(main, [*command, str(path)])
    assert result.exit_code == 2, result.output
    message = result.output.strip().splitlines()[-1]
    assert str(path) in message and need in message and f"not a {output} output" in message
    assert f"line {_line_of(path, 'output:')}" in message and "'output'" in message


def test_api_refuses_an_undefined_pair(tmp_path):
    import chainrule

    path = _notes_with(tmp_path, "linear")
    with pytest.raises(chainrule.InputError) as err:
        chainrule.problem_from_givens(str(path))
    assert err.value.field == "output" and err.value.line == _line_of(path, "output:")
    assert str(path) in str(err.value)


def test_the_loss_is_blamed_when_the_output_comes_from_an_option(tmp_path):
    import chainrule

    path = _notes_with(tmp_path, loss="cce")
    path.write_text(path.read_text().replace("output: sigmoid\n", ""))
    with pytest.raises(chainrule.InputError) as err:
        chainrule.problem_from_givens(str(path), output="tanh")
    assert err.value.field == "loss" and err.value.line == _line_of(path, "loss:")


@pytest.mark.parametrize("output,loss", [("linear", "mse"), ("tanh", "huber"),
                                         ("sigmoid", "mae"), ("linear", "hinge")])
def test_defined_pairs_still_work(tmp_path, output, loss):
    import chainrule

    path = _notes_with(tmp_path, output, loss)
    problem = chainrule.problem_from_givens(str(path))
    assert problem.givens["w13"] == 0.7
