"""Sphinx configuration of the skblsh documentation."""

import re
import sys
from pathlib import Path

import skblsh

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))

project = "skblsh"
author = "skblsh developers"
copyright = "2026, skblsh developers"
release = skblsh.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
html_theme = "pydata_sphinx_theme"
html_static_path = ["_static"]
html_title = f"skblsh {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}

autosummary_generate = True
autodoc_default_options = {}
autodoc_typehints = "none"

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Types stay plain text: the offline fallback inventories cannot resolve
# every word numpydoc would turn into a cross-reference.
numpydoc_xref_param_type = False

# Online inventory first; the small fallback in _intersphinx/ (written by
# make_inventories.py) keeps offline builds linking and warning-free.
_INV = DOCS / "_intersphinx"
intersphinx_mapping = {
    name: (url, (None, str(_INV / f"{name}.inv")))
    for name, url in [
        ("python", "https://docs.python.org/3/"),
        ("numpy", "https://numpy.org/doc/stable/"),
        ("sklearn", "https://scikit-learn.org/stable/"),
        ("librosa", "https://librosa.org/doc/latest/"),
    ]
}
intersphinx_timeout = 5

sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "reference_url": {"skblsh": None},
    "doc_module": ("skblsh",),
    "backreferences_dir": "gen_modules/backreferences",
    "show_memory": False,
}


# Docstring fixes applied at build time (the modules stay as written):
# - identifiers ending in "_" inside a shape, e.g. "(n_features_in_,)", are
#   reST reference syntax; escape the underscore;
# - "*" in a parameter's type line (a glob default) is not emphasis;
# - Bunch attribute lists in Returns sections list several "name : type"
#   lines without a blank line between items, which docutils reads as a
#   paragraph followed by an unexpected indentation; separate the items.
_SHAPE_NAME = re.compile(r"(?<=[(, ])(n_\w+?)_(?=[,) ])")
_PARAM_LINE = re.compile(r"^\*{0,2}\w+ : ")
_NESTED_TERM = re.compile(r"^    [A-Za-z_][\w, <>]* : \S")


def _fix_docstring(app, what, name, obj, options, lines):
    out = []
    for line in lines:
        if " : " in line or "shape (" in line:
            line = _SHAPE_NAME.sub(r"\1\\_", line)
        if _PARAM_LINE.match(line):
            # e.g. 'pattern : str, default="**/*.wav"' is not emphasis.
            name, _, type_ = line.partition(" : ")
            line = f"{name} : " + type_.replace("*", "\\*")
        prev = out[-1] if out else ""
        indent = len(line) - len(line.lstrip())
        prev_indent = len(prev) - len(prev.lstrip())
        if (
            prev.strip()
            and line.strip()
            and indent == 4
            and (_NESTED_TERM.match(line) or prev_indent > 4)
        ):
            out.append("")
        out.append(line)
    lines[:] = out


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn's generated metadata-routing setters document sklearn's own
    # user guide, whose labels only resolve inside the scikit-learn docs.
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _fix_docstring, priority=400)
    app.connect("autodoc-skip-member", _skip_member)
