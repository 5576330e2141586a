"""The one third-party script the handbook serves itself: Mermaid, for the home page's diagram.

Material fetches Mermaid from a CDN unless a `mermaid` global already exists, so offline
(on a train, behind a firewall) the diagram would show as text. The npm package's
`dist/mermaid.min.js` is committed under docs/assets/vendor/, pinned here by version and
digest. `python -m drillkit.vendor` refreshes it with npm; `check-site` fails when
the committed file is not the pinned one.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from drillkit.catalog import PROJECT_ROOT
from drillkit.errors import DrillError

# Material 9.x is written against Mermaid 11 (it would load mermaid@11 itself).
MERMAID_VERSION = "11.17.2"
MERMAID_SHA256 = "581ed7d74bd9048d0e3a91363927d72ef22942d7722546b27f7cc29e35390eb8"
VENDOR = PROJECT_ROOT / "docs" / "assets" / "vendor"
MERMAID = VENDOR / "mermaid.min.js"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_mermaid() -> list[str]:
    if not MERMAID.is_file():
        return [
            f"{MERMAID.relative_to(PROJECT_ROOT)} is missing: run `python -m drillkit.vendor` "
            "(needs npm) or restore it from git."
        ]
    if digest(MERMAID) != MERMAID_SHA256:
        return [
            f"{MERMAID.relative_to(PROJECT_ROOT)} is not mermaid {MERMAID_VERSION}'s "
            "dist/mermaid.min.js: refresh it with `python -m drillkit.vendor` "
            "and update MERMAID_VERSION and MERMAID_SHA256 together."
        ]
    return []


def vendor_mermaid(version: str = MERMAID_VERSION) -> str:
    """Fetch mermaid@VERSION with `npm pack` and copy its dist file and licence in."""
    npm = shutil.which("npm")
    if npm is None:
        raise DrillError(
            "Refreshing Mermaid needs npm (Node.js); the committed copy needs nothing."
        )
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", f"mermaid@{version}", "--silent"],
            cwd=tmp,
            check=True,
            capture_output=True,
            timeout=300,
        )
        (tarball,) = Path(tmp).glob("mermaid-*.tgz")
        with tarfile.open(tarball) as archive:
            archive.extractall(
                tmp,
                members=[
                    archive.getmember("package/dist/mermaid.min.js"),
                    archive.getmember("package/LICENSE"),
                ],
                filter="data",
            )
        VENDOR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(tmp, "package/dist/mermaid.min.js"), MERMAID)
        shutil.copyfile(Path(tmp, "package/LICENSE"), VENDOR / "mermaid.LICENSE.txt")
    return f"mermaid {version}: sha256 {digest(MERMAID)}"


if __name__ == "__main__":
    print(vendor_mermaid())
