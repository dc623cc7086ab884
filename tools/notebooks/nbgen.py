"""Shared helpers for the notebook generator scripts: collect cells, then write nbformat 4.5 JSON
with stable cell ids (atomically) under notebooks/. Each make-*.py imports md, code and write."""
import json
import os

cells = []

# First code cell of every notebook: the notebooks import the compiled library (`./dist/src/...`, built by
# `npm run build`), so that tslab type-checks a setup cell against declaration files in seconds instead of
# compiling all of src/ on each kernel start. This cell rebuilds dist/ when src/ changed since the last
# build (jupyter/library-build.js) and must run before any cell that imports from it.
BUILD_CELL = """// The notebooks import the compiled library (dist/, built from src/ by `npm run build`) so that cells start in
// seconds. This rebuilds it when src/ changed since the last build. Edited library code? Restart the kernel.
require('./jupyter/library-build').ensureLibraryBuild({ log: console.log });"""


def md(s):
    """Appends a markdown cell."""
    cells.append({"cell_type": "markdown", "metadata": {}, "source": s.strip("\n")})


def code(s):
    """Appends an empty (unexecuted) code cell."""
    cells.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": s.strip("\n")})


def write(filename, id_prefix):
    """Writes notebooks/<filename> with the project kernelspec; cell ids are <id_prefix>-NN. The build check
    (BUILD_CELL) goes before the first code cell."""
    first = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    cells.insert(first, {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": BUILD_CELL})
    for i, c in enumerate(cells):
        c["id"] = f"{id_prefix}-{i:02d}"
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "TypeScript (marl-automl)", "language": "typescript", "name": "marl-automl"},
            "language_info": {"name": "typescript"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    # NBGEN_OUT: another folder (the consistency test regenerates into a temporary one).
    out = os.path.join(os.environ.get("NBGEN_OUT") or os.path.join(root, "notebooks"), filename)
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(nb, f, indent=1)
        f.write("\n")
    os.replace(tmp, out)
    print(f"wrote {out} ({len(cells)} cells)")
