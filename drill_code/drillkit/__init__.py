"""The drill harness shared by every drill in the handbook.

One package holds what drills have in common: finding drills and their metadata
(`catalog`), choosing what code to test (`targets`), the database the tests run on
(`backends`, `base_settings`), the pytest plugin that ties failures to planted flaws
(`pytest_plugin`), the command line nox calls (`cli`) and the docs macros (`docs`).
"""
