"""gpt-oss's ``python`` tool: a stateful Jupyter kernel per run, in a sandbox.

:class:`PythonTool` is what an agent gets; the pieces behind it, one idea each:
the executor interface (``_executor``), the Jupyter executor (``_jupyter``), the
bubblewrap sandbox and its limits (``_sandbox``), output formatting (``_output``), the
warm pool (``_pool``), one run's kernel (``_session``) and the loop thread that owns all
kernels (``_thread``).
"""

from harmony_agent.tools.python._executor import Executor, Outcome, Output
from harmony_agent.tools.python._sandbox import SandboxLimits
from harmony_agent.tools.python._tool import PythonTool, SandboxMode, code_of

__all__ = ["Executor", "Outcome", "Output", "PythonTool", "SandboxLimits", "SandboxMode", "code_of"]
