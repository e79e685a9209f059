"""The paper's harness, on top of vaeaug's public API: the library never imports it.

- :mod:`vaeaug.paper.datasets`: MNIST and UJI Pen Characters loaders
  (download with checksums, a local cache, or files already on disk);
- :mod:`vaeaug.paper.experiments`: the paper's protocols, competitors,
  runner and reports;
- :mod:`vaeaug.paper.plotting`: figures like the paper's (needs matplotlib);
- :mod:`vaeaug.paper.cli`: the ``vaeaug`` command (``demo``, ``protocols``,
  ``reproduce``).

Install its extra dependencies with ``pip install "vaeaug[paper]"``.
"""
