"""Sphinx configuration for the vaeaug documentation.

Build with::

    python -m sphinx -b html -W --keep-going docs docs/_build/html
"""

import os
import sys

# Import the package from this checkout rather than from an installed copy.
sys.path.insert(0, os.path.abspath(".."))

import vaeaug  # noqa: E402

# -- Project information -----------------------------------------------------

project = "vaeaug"
author = "the vaeaug developers"
copyright = "the vaeaug developers"
release = vaeaug.__version__
version = ".".join(release.split(".")[:2])

# -- General configuration ---------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
]

root_doc = "index"
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"
pygments_style = "sphinx"

# No intersphinx: the documentation builds without network access.

# -- autodoc -----------------------------------------------------------------

# The numpydoc "Parameters" sections give the types; signatures stay short.
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = True

# -- numpydoc ----------------------------------------------------------------

# Members are listed explicitly in api.rst; numpydoc's own member tables
# would document them a second time (duplicate object warnings).
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- HTML output -------------------------------------------------------------

html_theme = "alabaster"
html_title = f"vaeaug {release}"
html_theme_options = {
    "description": "Data augmentation for scikit-learn with a variational autoencoder",
    "fixed_sidebar": True,
}
