"""Sphinx configuration for the vaeaug documentation.

Build with::

    python -m sphinx -b html -W --keep-going docs docs/_build/html

The build runs every example in ``examples/`` (about two minutes on a laptop
CPU); ``-D plot_gallery=0`` skips running them.
"""

import os
import sys

from sphinx_gallery.sorting import ExplicitOrder

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
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

root_doc = "index"
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
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

# -- sphinx-gallery ------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # From the first steps to the comparisons; unlisted examples come last.
    "within_subsection_order": ExplicitOrder(
        [
            "plot_quickstart.py",
            "plot_generation_methods.py",
            "plot_grid_search.py",
            "plot_choose_augmentation.py",
            "plot_pretrained_vae.py",
            "plot_class_balancing.py",
            "plot_latent_route.py",
            "plot_compare_augmenters.py",
            "*",
        ]
    ),
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("vaeaug",),
    "download_all_examples": False,
}

# -- HTML output -------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"vaeaug {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
# No left sidebar: the navbar reaches every section and no section but the
# gallery has pages of its own; the width goes to the code of the examples.
html_sidebars = {"**": []}


def _mark_result_tables_orphan(app, docname, source):
    """Let the tables in ``results/`` stand outside any toctree.

    ``vaeaug reproduce`` writes them; ``results.md`` links each one, and a
    toctree listing them all would crowd the navigation.
    """
    if docname.startswith("results/"):
        source[0] = "---\norphan: true\n---\n" + source[0]


def setup(app):
    app.connect("source-read", _mark_result_tables_orphan)
