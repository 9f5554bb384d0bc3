"""Settings for the whole suite.

Signals: every test runs as from a terminal, where Ctrl-C, Ctrl-\\ and hang-ups have their
usual effect. A shell without job control (CI runners, `cmd &` in a script) starts its
background jobs with SIGINT and SIGQUIT ignored, `nohup` ignores SIGHUP, and exec keeps an
ignored signal ignored: every process the tests start would then ignore the signals the tests
send. A signal handled in this process (rather than ignored) is back to its default action in
children at exec.

Rule tables: DEVLINT_STRICT_RULES makes every finding devlint builds, here and in the
devlint processes the tests start, keep to its code's declared severities and evidence keys.

Hypothesis: under CI (CI set, as `.ci/run` does) the property tests try the same examples on
every run, so a submission is judged on the code, not on the draw; elsewhere each run draws
new ones and keeps hunting. Loaded before any test module makes its settings.
"""

import os
import signal

from hypothesis import settings

for _number, _handler in ((signal.SIGINT, signal.default_int_handler), (signal.SIGQUIT, signal.SIG_DFL),
                          (signal.SIGHUP, signal.SIG_DFL)):
    if signal.getsignal(_number) is signal.SIG_IGN:
        signal.signal(_number, _handler)

os.environ["DEVLINT_STRICT_RULES"] = "1"

settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
