"""The host's CA bundle, which builds receive as a BuildKit secret (never as a layer)."""

from __future__ import annotations

import os
from pathlib import Path

# The variables a TLS-intercepting proxy setup usually sets, most specific first.
CA_VARIABLES = (
    "FORGE_CA_BUNDLE",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
)
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def host_ca_bundle() -> Path | None:
    for variable in CA_VARIABLES:
        value = os.environ.get(variable)
        if value and Path(value).is_file():
            return Path(value)
    return SYSTEM_BUNDLE if SYSTEM_BUNDLE.is_file() else None
