"""The console adapter: `slipstream chat`, `slipstream ask "TEXT"`, `slipstream demo`.

The embedded default: works on a fresh clone with the bundled demo data, no
tokens, no network and no LLM.
"""

from adapters.console.chat import ConsoleSession, run_chat
from adapters.console.render import render
from adapters.console.responder import ConsoleResponder
from adapters.console.service import ConsolePoster, run_console

__all__ = ["ConsolePoster", "ConsoleResponder", "ConsoleSession", "render", "run_chat", "run_console"]
