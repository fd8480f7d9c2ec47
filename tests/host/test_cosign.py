"""cosign: a key that cannot sign is found before anything is pushed."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from imageforge.host.cosign import CosignError, Signing, require_usable_key
from tests.support import ROOT

needs_cosign = pytest.mark.skipif(
    shutil.which("cosign") is None and not os.environ.get("CI"),
    reason="cosign is not installed (scripts/setup-host.sh installs it)",
)


@pytest.fixture
def key(tmp_path):
    subprocess.run(
        ["cosign", "generate-key-pair"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "COSIGN_PASSWORD": "right"},
        check=True,
        capture_output=True,
    )
    return tmp_path / "cosign.key"


@needs_cosign
def test_the_right_password_opens_the_key(key):
    require_usable_key(Signing(key=key, password="right"))


@needs_cosign
def test_a_wrong_password_is_one_line_before_any_push(key):
    with pytest.raises(CosignError) as caught:
        require_usable_key(Signing(key=key, password="wrong"))
    message = str(caught.value)
    assert message.startswith(f"FORGE_COSIGN_KEY={key} cannot sign (")
    assert message.endswith("is COSIGN_PASSWORD right?); nothing was pushed")
    assert "\n" not in message


def test_a_missing_key_stops_inv_build_before_anything_is_built(tmp_path):
    missing = tmp_path / "nope.key"
    proc = subprocess.run(
        ["inv", "-r", str(ROOT), "build", "-s", "keystone", "-r", "2025.2", "--push", "--sign"],
        env={
            **os.environ,
            "FORGE_COSIGN_KEY": str(missing),
            "FORGE_BUILD_DIR": str(tmp_path / "b"),
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (proc.returncode, proc.stderr.strip()) == (
        1,
        f"error: FORGE_COSIGN_KEY={missing}: no such file; nothing was pushed",
    )
    assert not (tmp_path / "b").exists()
