"""Generate ``events/``: raw Meta payload samples and ready-to-invoke events for every function.

``python scripts/make_events.py`` rewrites the files from the builders in ``tests/builders``; a
test checks they are current.
"""

from __future__ import annotations

from tests.builders.events import EVENTS, build, render


def main() -> None:
    files = build()
    for relative, content in files.items():
        path = EVENTS / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(content), encoding="utf-8")
    print(f"wrote {len(files)} files under {EVENTS}")


if __name__ == "__main__":
    main()
