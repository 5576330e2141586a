"""Every reference solution passes Django's deployment check with production-like
settings: secrets from the environment, no harness defaults."""

import os
import re
import subprocess
import sys

import pytest

from drillkit.catalog import PROJECT_ROOT, all_drills

# What `check --deploy` may still say, and why each is accepted.
EXPLAINED = {
    # Preloading HSTS and covering subdomains commit every subdomain of the owner's
    # domain to HTTPS for a year: the site owner decides that, not an API's settings.
    "security.W005": "HSTS includeSubDomains is the domain owner's decision",
    "security.W021": "HSTS preload is the domain owner's decision",
}
ENV_SECRET = re.compile(r"""env_secret\(\s*["']([A-Z0-9_]+)["']""")


def production_env(drill) -> dict:
    names = {"DJANGO_SECRET_KEY"}
    for settings in drill.solution.rglob("*.py"):
        names.update(ENV_SECRET.findall(settings.read_text(encoding="utf-8")))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRILLKIT")}
    env.update({name: os.urandom(40).hex() for name in names})
    env.update(
        DJANGO_ALLOWED_HOSTS="api.example.com",
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=os.pathsep.join([str(drill.solution), str(PROJECT_ROOT / "drill_code")]),
    )
    return env


@pytest.mark.parametrize("drill", all_drills(), ids=lambda d: d.name)
def test_the_deployment_check_finds_nothing_unexplained(drill):
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=production_env(drill),
        cwd=drill.solution,
    )
    found = set(re.findall(r"\(([a-z_]+\.[EW]\d+)\)", result.stdout + result.stderr))
    assert found <= set(EXPLAINED), result.stdout + result.stderr
    if not found:
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("drill", all_drills(), ids=lambda d: d.name)
def test_a_solution_without_its_secrets_refuses_to_start(drill):
    env = production_env(drill)
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        capture_output=True,
        text=True,
        env=env,
        cwd=drill.solution,
    )
    assert result.returncode != 0
    assert "Set the DJANGO_SECRET_KEY environment variable" in result.stderr
