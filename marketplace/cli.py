"""Command line (CONTRACT section 2)."""


def register(app) -> None:
    pass
