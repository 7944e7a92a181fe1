"""``harmony_agent.server``'s public names, and that nothing else loads FastAPI."""

from __future__ import annotations

import subprocess
import sys

import harmony_agent.server as server


def test_public_names() -> None:
    assert server.__all__ == sorted(server.__all__, key=lambda n: (not n.isupper(), n))
    for name in ("create_app", "running", "serve", "Generation", "generate", "APIError"):
        assert name in server.__all__
        assert getattr(server, name) is not None


def test_the_library_and_the_cli_load_without_fastapi() -> None:
    code = (
        "import sys, harmony_agent, harmony_agent.cli._main as m; m.build_parser(); "
        "print('fastapi' in sys.modules, 'uvicorn' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
