"""``python -m scenarios.reference``: write the vocabulary page (``scenarios/REFERENCE.md``)."""

from __future__ import annotations

import sys
from pathlib import Path

from scenarios.vocabulary import reference

PAGE = Path(__file__).parent / "REFERENCE.md"


def main() -> int:
    PAGE.write_text(reference(), encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
