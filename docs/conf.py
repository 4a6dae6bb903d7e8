"""Sphinx configuration of the skblsh documentation."""

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# The checkout's package, whatever is installed.
sys.path.insert(0, str(DOCS.parent))

import skblsh  # noqa: E402

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


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn's generated metadata-routing setters document sklearn's own
    # user guide, whose labels only resolve inside the scikit-learn docs.
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
