"""The client list Jira answers carries every client's secret: none of them may leave the module in any form."""
from __future__ import annotations

from types import SimpleNamespace

from ansible_collections.jiraops.integration.plugins.module_utils._oauth2_client import ClientManager
from ansible_collections.jiraops.integration.plugins.module_utils._redact import Redactor


class ListingClient:
    def __init__(self, clients):
        self.redactor = Redactor()
        self._clients = clients

    def request(self, method, path, **kwargs):
        return SimpleNamespace(json=self._clients, body=b"[]", headers={}, path=path, status=200)


def test_every_listed_secret_is_masked_afterwards():
    other = "s3cr/et+with&special=chars"
    client = ListingClient([{"id": "1", "clientId": "a", "name": "Other tool", "clientSecret": other},
                            {"id": "2", "clientId": "b", "name": "CI server", "clientSecret": "second-secret"}])
    found = ClientManager(client).find("CI server")
    assert found["clientId"] == "b"
    echoed = f'error: {other} / "{other}" / s3cr%2Fet%2Bwith%26special%3Dchars / second-secret'
    masked = client.redactor.text(echoed)
    assert "s3cr" not in masked and "second-secret" not in masked
