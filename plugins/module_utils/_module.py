# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One base class for every module that talks to Jira: shared options, the client, one error path."""
from __future__ import annotations

from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.jiraops.integration.plugins.module_utils._client import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
)
from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError
from ansible_collections.jiraops.integration.plugins.module_utils._options import (
    auth_option_names,
    build_client,
    connection_argspec,
)


class JiraModule(AnsibleModule):
    """AnsibleModule plus the connection/auth options, a lazily built client and JiraError handling."""

    # Up to this many entities an option is echoed in full in ``invocation``; beyond it, as a count.
    ECHO_LIMIT = 10

    def __init__(self, argument_spec=None, reply_limit=None, **kwargs):
        """``reply_limit``: the default ``max_response_size`` of this module (the client's own default when None)."""
        spec = connection_argspec()
        spec.update(argument_spec or {})
        super().__init__(argument_spec=spec, **kwargs)
        if not HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))
        self._client = None
        # Module options named like an auth option but meaning something else (applink's consumer_key is the
        # link's consumer, not the caller's credentials): auth selection must not see them.
        auth_names = auth_option_names()
        self._own_options = [name for name in (argument_spec or {}) if name in auth_names]
        self._summaries = {}
        self._reply_limit = reply_limit

    def summarise_option(self, name, count):
        """Echo list option ``name`` in ``invocation.module_args`` as ``<count name>`` when it holds many entities.

        Ansible echoes every option back by default; for thousands of entities that is megabytes of output that
        Ansible then has to encode, read and keep (and -vvv shows it all), while the module returns the outcome
        for each entity anyway.
        """
        if count > self.ECHO_LIMIT:
            self._summaries[name] = f"<{count} {name}>"

    def invocation(self):
        """``invocation`` as AnsibleModule returns it, with the summarised options shortened.

        No_log values are masked in it (and everywhere else in the result) before output.
        """
        args = dict(self.params)
        args.update((name, text) for name, text in self._summaries.items() if args.get(name) is not None)
        return {"module_args": args}

    def connection_params(self):
        """The parameters the client and its auth method are built from."""
        params = dict(self.params)
        for name in self._own_options:
            params[name] = None
        return params

    @property
    def client(self):
        if self._client is None:
            self.use_client(build_client(self.connection_params(), log=self.debug_log(),
                                         default_max_response_size=self._reply_limit))
        return self._client

    def debug_log(self):
        """``self.debug`` when debug logging is on (ANSIBLE_DEBUG), else None: the client then skips building and
        redacting debug lines that would only be thrown away."""
        return self.debug if self._debug else None

    def use_client(self, client):
        """Adopt a client (built here or by the module itself) and mask the secrets its auth method knows."""
        self._client = client
        for secret in client.redactor.secrets:
            self.no_log_values.add(secret)
        for warning in client.warnings:
            self.warn(warning)
        return client

    def _mask_url_passwords(self):
        """A password written into a URL option is refused, but Ansible would still echo the option back."""
        for value in self.params.values():
            if isinstance(value, str) and "@" in value and "://" in value:
                try:
                    password = urlsplit(value).password
                except ValueError:
                    password = None
                if password:
                    self.no_log_values.add(password)

    def fail_from(self, exc, **extra):
        """Turn a JiraError into fail_json: its message, details and ``result``, masked once more by the client."""
        self._mask_url_passwords()
        result = exc.details()
        result.update(exc.result)
        result.update(extra)
        redactor = self._client.redactor if self._client else None
        msg = str(exc)
        if redactor:
            msg = redactor.text(msg)
            result = redactor.data(result)
        self.fail_json(msg=msg, **result)

    def run(self, func):
        """Call ``func(self)`` and exit with its result dict; JiraError becomes a clean failure."""
        try:
            result = func(self)
        except JiraError as exc:
            self.fail_from(exc)
        self.exit_json(**result)

    def exit_json(self, **kwargs):
        if getattr(self, "_summaries", None) and "invocation" not in kwargs:
            kwargs["invocation"] = self.invocation()
        super().exit_json(**kwargs)

    def fail_json(self, msg, **kwargs):
        if getattr(self, "_summaries", None) and "invocation" not in kwargs:
            kwargs["invocation"] = self.invocation()
        super().fail_json(msg, **kwargs)
