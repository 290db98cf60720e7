"""`make course` machinery on two tiny notebooks: one that runs, one that fails."""

import nbformat
import pytest

from cnngrader.course import build, summary_table
from cnngrader.execute import NotebookFailed, run_notebook


def _notebook(path, *sources):
    cells = [nbformat.v4.new_markdown_cell(f"# {path.stem.title()}")]
    cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def test_build_writes_executed_notebooks_html_and_index(tmp_path, capsys):
    good = _notebook(tmp_path / "01_good.ipynb", "print(6 * 7)")
    bad = _notebook(tmp_path / "02_bad.ipynb", "x = 1", "1 / 0")
    out = tmp_path / "build"
    assert build([good, bad], out=out, workers=1) == 1
    executed = nbformat.read(out / "lectures" / "01_good.ipynb", as_version=4)
    assert executed.cells[1].outputs[0]["text"] == "42\n"
    index = (out / "index.html").read_text()
    assert 'href="01_good.html"' in index and 'href="02_bad.html"' in index
    assert (out / "01_good.html").exists()
    printed = capsys.readouterr().out
    assert "01_good.ipynb" in printed and "FAILED: 02_bad.ipynb failed at cell 2" in printed
    assert "ZeroDivisionError" in printed


def test_failure_names_notebook_cell_and_error(tmp_path):
    bad = _notebook(tmp_path / "nb.ipynb", "raise ValueError('broken on purpose')")
    with pytest.raises(NotebookFailed, match=r"nb.ipynb failed at cell 1: \"raise ValueError") as err:
        run_notebook(bad)
    assert "broken on purpose" in str(err.value)


def test_summary_table():
    table = summary_table([{"name": "a.ipynb", "seconds": 1.25, "status": "ok"}])
    assert "a.ipynb" in table and "1.2" in table and "ok" in table
