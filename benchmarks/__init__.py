"""talksearch's benchmarks: one module a measurement, run from the repository's root as `python -m benchmarks.NAME`.

`common` holds the helpers they share; `internals` is the one place they reach past talksearch's public API;
`eval` is the development-set evaluation the ranking benchmarks score with. README.md has every command.
"""
