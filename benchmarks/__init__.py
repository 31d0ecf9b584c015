"""talksearch's benchmarks: one module a measurement, run from the repository's root as `python -m benchmarks.NAME`.

`common` holds the helpers they share; `eval` is the development-set evaluation the ranking benchmarks score with;
`variants` builds variants of the shipped ranking from talksearch's public rankers and sets them on a loaded
Searcher. They use talksearch's public API only. README.md has every command.
"""
