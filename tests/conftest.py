"""Run every test as from a terminal, where Ctrl-C, Ctrl-\\ and hang-ups have their usual effect.

A shell without job control (CI runners, `cmd &` in a script) starts its background jobs with
SIGINT and SIGQUIT ignored, `nohup` ignores SIGHUP, and exec keeps an ignored signal ignored:
every process the tests start would then ignore the signals the tests send. A signal handled
in this process (rather than ignored) is back to its default action in children at exec.
"""

import signal

for _number, _handler in ((signal.SIGINT, signal.default_int_handler), (signal.SIGQUIT, signal.SIG_DFL),
                          (signal.SIGHUP, signal.SIG_DFL)):
    if signal.getsignal(_number) is signal.SIG_IGN:
        signal.signal(_number, _handler)
