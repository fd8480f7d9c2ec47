"""After the checks: pushed images signed, their SBOMs attested, the digest lock, `inv verify`."""
