"""Executes Jupyter notebooks in order with nbclient and exports each to HTML (used by scripts/notebooks.ts).

usage: python3 execute_notebooks.py OUT_DIR KERNEL TIMEOUT NOTEBOOK...

Each NOTEBOOK runs in its own kernel with its folder as working directory; OUT_DIR gets NAME.ipynb (executed)
and NAME.html. On the first failing cell the partly executed notebook and its HTML are still written (they
show where it stopped), the failing cell is named on stderr, and the exit status is 1. One JSON line per
notebook goes to stdout: {"notebook", "seconds", "ok"[, "cell", "error"]}.
"""
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter


def cell_error_text(cell):
    """tslab reports errors on stderr rather than as an error output: collect both."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            parts.append("%s: %s" % (output.get("ename"), output.get("evalue")))
        elif output.get("output_type") == "stream" and output.get("name") == "stderr":
            parts.append(output.get("text", ""))
    return "".join(parts).strip() or "(the kernel reported an error without a message)"


def main(argv):
    out_dir, kernel, timeout, notebooks = argv[0], argv[1], int(argv[2]), argv[3:]
    os.makedirs(out_dir, exist_ok=True)
    exporter = HTMLExporter()
    for source in notebooks:
        name = os.path.splitext(os.path.basename(source))[0]
        nb = nbformat.read(source, as_version=4)
        client = NotebookClient(
            nb,
            kernel_name=kernel,
            timeout=None if timeout <= 0 else timeout,
            resources={"metadata": {"path": os.path.dirname(os.path.abspath(source))}},
        )
        started = time.time()
        status = {"notebook": source, "ok": True}
        index = -1
        try:
            # Cell by cell (rather than client.execute()) so a failure names its cell.
            with client.setup_kernel():
                for index, cell in enumerate(nb.cells):
                    client.execute_cell(cell, index)
        except CellExecutionError:
            failing = nb.cells[index]
            status.update(ok=False, cell=index + 1, error=cell_error_text(failing), source=failing.source)
        except Exception as err:  # the kernel did not start, a cell timed out, or the kernel died (e.g. out of memory)
            error = "%s: %s" % (type(err).__name__, str(err).strip())
            if index < 0:
                status.update(ok=False, cell=0, error="the %s kernel did not start: %s" % (kernel, error))
            else:
                status.update(ok=False, cell=index + 1, error=error, source=nb.cells[index].source)
        status["seconds"] = round(time.time() - started, 1)
        nbformat.write(nb, os.path.join(out_dir, name + ".ipynb"))
        html, _ = exporter.from_notebook_node(nb)
        with open(os.path.join(out_dir, name + ".html"), "w", encoding="utf-8") as f:
            f.write(html)
        print(json.dumps(status), flush=True)
        if not status["ok"]:
            sys.stderr.write(
                "%s: cell %d of %d failed:\n%s\n--- cell source ---\n%s\n"
                % (source, status["cell"], len(nb.cells), status["error"], status.get("source", ""))
            )
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
