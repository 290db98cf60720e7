"""Stopping a grading run cleanly: Ctrl-C, ``kill`` and a closed terminal all stop it as Ctrl-C does.

A signal raises ``Interrupted`` in the main thread, wherever it is waiting, so that the run's clean-up
(its workers and their sandboxes killed) always happens. Inside ``held()`` (a student's grade being
stored, a release being generated) the signal waits until the block is done: a student is recorded
whole or not at all. Once the run is ``ending()``, a signal (Ctrl-C pressed again) is only noted.
Signals the caller ignores (``nohup``, a background job) stay ignored; outside the main thread, where
Python delivers no signal, nothing is installed.
"""

import contextlib
import signal
import threading

STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (its name is the message until ``autograde`` says more); ``rows``:
    the report of the stopped run, when it got as far as having one."""

    def __init__(self, message, rows=None, *, signum):
        super().__init__(message)
        self.rows, self.signum = rows, signum


class Stop:
    """The signals that stop a run, while ``installed()``; ``signum`` once one arrived."""

    def __init__(self):
        self.signum, self.holding, self.waiting = None, False, False

    def _arrived(self, signum, frame):
        self.signum = signum
        if self.holding:
            self.waiting = True
        else:
            raise Interrupted(self.name, signum=signum)

    @property
    def name(self):
        return signal.Signals(self.signum).name if self.signum else None

    @contextlib.contextmanager
    def installed(self):
        """The handlers, for the block; the earlier ones come back after it."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        earlier = {s: signal.getsignal(s) for s in STOPPING}
        for s, handler in earlier.items():
            if handler is not signal.SIG_IGN:
                signal.signal(s, self._arrived)
        try:
            yield self
        finally:
            for s, handler in earlier.items():
                signal.signal(s, signal.SIG_DFL if handler is None else handler)

    def ending(self):
        """From now on a signal is only noted: the run is ending, and its clean-up is not cut short."""
        self.holding = True

    @contextlib.contextmanager
    def held(self):
        """A block no signal cuts short: one that arrives meanwhile stops the run when the block is done."""
        outer, self.holding = self.holding, True
        try:
            yield
        finally:
            self.holding = outer
        if self.waiting and not outer:
            self.waiting = False
            raise Interrupted(self.name, signum=self.signum)
