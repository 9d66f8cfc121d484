"""examples/teaching.ipynb runs top to bottom in a real kernel, so it never goes stale."""

import base64
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "teaching.ipynb"


def outputs_of(cell):
    found = {}
    for output in cell.get("outputs", []):
        found.update(output.get("data", {}))
        if output.get("output_type") == "stream":
            found["stream"] = found.get("stream", "") + output["text"]
    return found


@pytest.mark.slow  # a kernel starts: about 15-20 s
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_teaching_notebook_runs_and_shows_rich_output():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "the notebook is stored without outputs"
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    by_source = {c.source.splitlines()[-1]: outputs_of(c) for c in code}
    assert r"\hat{y} - y" in by_source["bce"]["text/latex"]
    assert by_source["bce.dL_dz"]["text/plain"] == "'yhat - y'"
    assert "<svg" in by_source["example"]["text/html"]
    assert "bp-file-" in by_source["example"]["text/plain"]
    assert "z1 = w11*x1 + w21*x2 + b1" in by_source[next(k for k in by_source
                                                    if "step.formula" in k)]["stream"]
    assert "ProblemSet" in by_source["quiz"]["text/plain"]
    files = by_source[next(k for k in by_source if "iterdir" in k)]["text/plain"]
    assert "moodle.xml" in files and "questions-B.md" in files
    report = by_source["report"]["text/html"]
    assert "#f9d0d0" in report and "#fff3c4" in report  # a wrong step, then a carried one
    assert by_source['report.first_error, report.score["points"], report.score["max"]'][
        "text/plain"].startswith("('delta3'")
    png = by_source["run.plot()"]["image/png"]
    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"
