"""devlint: make local dev stacks start right.

Checks every port of every service on both IP families before a dev server starts,
and says who holds a port, why that breaks the browser, and what to change.
"""

__version__ = "0.1.0"

TYPE_CHECKING = False  # not typing's: importing typing costs every run ≈ 3 ms

# Plugins import this marker; importing pluggy here would cost every run, so it is lazy.
if TYPE_CHECKING:
    import pluggy

    hookimpl: pluggy.HookimplMarker


def __getattr__(name: str) -> object:
    if name == "hookimpl":
        import pluggy

        marker = pluggy.HookimplMarker("devlint")
        globals()["hookimpl"] = marker
        return marker
    raise AttributeError(name)
