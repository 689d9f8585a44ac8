# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception type of the collection; ``JiraModule.run`` alone turns it into the task's failure."""
from __future__ import annotations


class JiraError(Exception):
    """Anything that went wrong talking to Jira, or before (bad options): one clear message, no credentials.

    ``option`` names the offending option for input errors; ``status``/``method``/``path`` describe a failed call.
    ``result``: return keys of the task that failed (what was done before it failed).
    """

    def __init__(self, message, status=None, method=None, path=None, messages=None, option=None, body=None,
                 retries=0, result=None):
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.messages = list(messages or [])
        self.option = option
        self.body = body
        self.retries = retries
        self.result = dict(result or {})
        super().__init__(str(self))

    def __str__(self):
        if self.method and self.path:
            where = f"{self.method} {self.path}"
            if self.status is not None:
                where += f" returned HTTP {self.status}"
            text = f"{where}: {self.message}" if self.message else where
        else:
            text = self.message
        if self.messages:
            text = f"{text} ({'; '.join(self.messages)})" if text else "; ".join(self.messages)
        return text

    def details(self):
        """Structured facts for the failed task's result, already free of secrets."""
        out = {}
        for key in ("status", "method", "path", "option"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.messages:
            out["error_messages"] = self.messages
        if self.retries:
            out["retries"] = self.retries
        return out


class OptionError(JiraError):
    """Bad or conflicting input, caught before anything is sent."""

    def __init__(self, option, message):
        super().__init__(f"{option}: {message}" if option else message, option=option)
