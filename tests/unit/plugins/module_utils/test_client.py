"""The HTTP core against the live emulator: retries, Retry-After, budgets, errors, redaction."""
from __future__ import annotations

import logging
import threading
import time

import pytest
from clock_support import FakeClock

from ansible_collections.jiraops.integration.plugins.module_utils._auth import AuthMethod, BasicAuth
from ansible_collections.jiraops.integration.plugins.module_utils._client import JiraClient
from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._options import build_client

ALICE = {"username": "alice", "password": "alice-password"}


def client(emulator, clock=None, **kw):
    params = {"url": emulator.url, "api_url": emulator.url, "auth_url": emulator.url, "auth_method": "auto",
              "timeout": 5, "validate_certs": True, "max_retries": 5, "retry_budget": 30}
    params.update(ALICE)
    params.update(kw)
    return build_client(params, clock=clock)


def test_basic_auth_round_trip(emulator):
    resp = client(emulator).get("/rest/api/2/issue/JJ-2")
    assert resp.json["fields"]["summary"] == "Jira Junior logo is not pink enough"
    assert resp.retries == 0


def test_bearer_pat(emulator):
    resp = client(emulator, username=None, password=None, token="alice-pat-0123456789abcdef").get("/rest/api/2/myself")
    assert resp.json["name"] == "alice" and resp.json["authenticatedVia"] == "pat"


def test_retry_after_is_honoured_over_real_http(emulator):
    """The one client test on the real clock: the system clock really sleeps out Retry-After."""
    emulator.fault("/rest/api/2/myself", status=429, retry_after=1, times=1)
    started = time.monotonic()
    resp = client(emulator).get("/rest/api/2/myself")
    elapsed = time.monotonic() - started
    assert resp.status == 200 and resp.retries == 1
    assert elapsed >= 1.0, "a Retry-After: 1 reply must make the client wait at least 1 s"
    refused, answered = emulator.requests("/rest/api/2/myself")
    assert answered["time"] - refused["time"] >= 0.95


def test_every_retry_after_is_waited_on_the_clock(emulator):
    emulator.fault("/rest/api/2/myself", status=429, retry_after=1, times=2)
    clock = FakeClock()
    started = time.monotonic()
    resp = client(emulator, clock=clock).get("/rest/api/2/myself")
    assert resp.status == 200 and resp.retries == 2
    assert len(clock.sleeps) == 2 and min(clock.sleeps) >= 1.0, \
        f"two Retry-After: 1 replies must make the client wait at least 1 s twice: {clock.sleeps}"
    assert time.monotonic() - started < 1.0, "the test clock's waits take no real time"
    assert len(emulator.requests("/rest/api/2/myself")) == 3


def test_5xx_and_dropped_connections_are_retried(emulator):
    clock = FakeClock()  # the backoff is test_retry's; here: which replies are retried
    emulator.fault("/rest/api/2/myself", status=503, times=1)
    emulator.fault("/rest/api/2/myself", kind="drop", times=1, skip=1)
    emulator.fault("/rest/api/2/myself", status=502, times=1, skip=2)
    resp = client(emulator, clock=clock).get("/rest/api/2/myself")
    assert resp.status == 200 and resp.retries == 3 and len(clock.sleeps) == 3


def test_budget_gives_up_with_a_clear_error(emulator):
    emulator.fault("/rest/api/2/myself", status=429, retry_after=30, times=-1)
    clock = FakeClock()
    with pytest.raises(JiraError) as err:
        client(emulator, clock=clock, retry_budget=3).get("/rest/api/2/myself")
    assert clock.sleeps == [], "a wait that cannot fit the budget must not be started"
    msg = str(err.value)
    assert "GET /rest/api/2/myself returned HTTP 429" in msg and "gave up" in msg and "retry_budget" in msg


def test_max_retries_exhausted(emulator):
    emulator.fault("/rest/api/2/myself", status=503, times=-1)
    clock = FakeClock()
    with pytest.raises(JiraError) as err:
        client(emulator, clock=clock, max_retries=2).get("/rest/api/2/myself")
    assert err.value.status == 503 and err.value.retries == 2 and len(clock.sleeps) == 2
    assert len(emulator.requests("/rest/api/2/myself")) == 3


def test_timeout_is_retried_then_reported(emulator):
    emulator.fault("/rest/api/2/myself", kind="delay", delay=0.6, times=-1)
    clock = FakeClock()
    with pytest.raises(JiraError) as err:
        client(emulator, clock=clock, timeout=0.2, max_retries=1).get("/rest/api/2/myself")
    assert "timed out" in str(err.value) and "2 attempt" in str(err.value) and len(clock.sleeps) == 1


def test_a_put_marked_not_idempotent_is_not_sent_again_after_a_dropped_reply(emulator):
    """Jira's application link PUT creates a new link each time: a retry would hide that the first one worked."""
    emulator.fault("/rest/api/2/issue/JJ-2", method="PUT", kind="drop", times=1)
    with pytest.raises(JiraError) as err:
        client(emulator).put("/rest/api/2/issue/JJ-2", json={"fields": {}}, expected=(204,), idempotent=False)
    assert "may have processed this PUT" in str(err.value) and err.value.retries == 0
    assert len(emulator.requests("/rest/api/2/issue/JJ-2", method="PUT")) == 1
    # An ordinary PUT is idempotent and is retried.
    emulator.fault("/rest/api/2/issue/JJ-2", method="PUT", kind="drop", times=1)
    resp = client(emulator).request("PUT", "/rest/api/2/issue/JJ-2", json={"fields": {}}, expected=None)
    assert resp.retries == 1


def test_401_message_is_clear_and_has_no_password(emulator):
    with pytest.raises(JiraError) as err:
        client(emulator, password="wrong-password-123").get("/rest/api/2/myself")
    msg = str(err.value)
    assert err.value.status == 401
    assert "authentication failed" in msg and "You are not authenticated" in msg
    assert "wrong-password-123" not in msg and "wrong-password-123" not in repr(err.value.details())


def test_jira_error_messages_are_surfaced(emulator):
    with pytest.raises(JiraError) as err:
        client(emulator).get("/rest/api/2/issue/NOPE-1")
    assert err.value.status == 404 and "Issue does not exist" in str(err.value)


def test_400_bad_json_body(emulator):
    c = client(emulator)
    with pytest.raises(JiraError) as err:
        c.request("POST", "/rest/api/2/issue/JJ-2/comment", data=b"{not json",
                  headers={"Content-Type": "application/json"}, expected=(201,))
    assert err.value.status == 400 and "Unexpected character" in str(err.value)


def test_wrong_content_type_is_refused(emulator):
    with pytest.raises(JiraError) as err:
        client(emulator).request("POST", "/rest/api/2/issue/JJ-2/comment", data=b"body=x",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"}, expected=(201,))
    assert err.value.status == 415


@pytest.mark.parametrize("option, value", [("url", "jira.example.com"), ("api_url", "ftp://x"), ("auth_url", "/x")])
def test_bad_base_urls_name_the_option(emulator, option, value):
    with pytest.raises(OptionError) as err:
        client(emulator, **{option: value})
    assert err.value.option == option and "absolute http(s) URL" in str(err.value)


def test_cloud_id_routes_site_paths_through_the_gateway(emulator):
    c = client(emulator, url=None, cloud_id="abc-123")
    assert c.url_for("/rest/api/3/myself") == f"{emulator.url}/ex/jira/abc-123/rest/api/3/myself"
    assert c.url_for("/oauth/token", base="api") == f"{emulator.url}/oauth/token"


def test_debug_lines_are_redacted(emulator):
    lines = []
    c = build_client({"url": emulator.url, "auth_method": "auto", "token": "alice-pat-0123456789abcdef",
                      "max_retries": 1, "retry_budget": 10, "timeout": 5}, log=lines.append)
    emulator.fault("/rest/api/2/myself", status=503, times=1)
    c.get("/rest/api/2/myself")
    assert lines and not any("alice-pat-0123456789abcdef" in line for line in lines)


# -- one client shared by threads (the DevOps modules' parallel_requests) ------------------------------------------
def _together(count, func):
    """Run ``func`` in ``count`` threads released at the same moment; return their results (or exceptions)."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def work(index):
        barrier.wait()
        try:
            results[index] = func()
        except Exception as exc:  # pylint: disable=broad-except
            results[index] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


class _SlowFirstAuth(AuthMethod):
    """Basic auth whose one-off step takes a while, as an OAuth 2.0 token request does."""

    name = "slow-first"

    def __init__(self):
        super().__init__(dict(ALICE))
        self.authenticated = 0

    def authenticate(self, client):
        self.authenticated += 1
        time.sleep(0.2)

    def apply(self, request):
        return BasicAuth(self.params).apply(request)


class _ExpiredTokenAuth(AuthMethod):
    """A bearer token the server no longer takes; refreshing (slowly) gives one it takes."""

    name = "expired-token"

    def __init__(self):
        super().__init__({})
        self.token = "expired-0123456789"
        self.refreshed = 0

    def apply(self, request):
        request.headers["Authorization"] = "Bearer " + self.token
        return request

    def on_unauthorized(self, client):
        self.refreshed += 1
        time.sleep(0.2)
        self.token = "alice-pat-0123456789abcdef"
        return True


def test_threads_share_one_authentication_and_count_every_request(emulator):
    auth = _SlowFirstAuth()
    c = JiraClient(url=emulator.url, auth=auth, timeout=10)
    results = _together(8, lambda: [c.get("/rest/api/2/myself").json["name"] for dummy in range(5)])
    assert results == [["alice"] * 5] * 8
    assert auth.authenticated == 1
    assert c.requests_made == 40 == len(emulator.requests("/rest/api/2/myself"))


def test_threads_refused_together_reauthenticate_once(emulator):
    auth = _ExpiredTokenAuth()
    c = JiraClient(url=emulator.url, auth=auth, timeout=10)
    results = _together(6, lambda: c.get("/rest/api/2/myself").json["name"])
    assert results == ["alice"] * 6
    refused = [r for r in emulator.requests("/rest/api/2/myself") if r["status"] == 401]
    assert len(refused) >= 2, "several threads must have been refused with the old token"
    assert auth.refreshed == 1


def test_retry_after_on_one_thread_pauses_the_others(emulator):
    emulator.fault("/rest/api/2/myself", status=429, retry_after=1, times=1)
    clock = FakeClock()
    c = client(emulator, clock=clock)
    c.get("/rest/api/2/myself")  # the 429 (its thread waits by its own retry policy)
    results = _together(3, lambda: c.get("/rest/api/2/issue/JJ-2").status)
    assert results == [200] * 3 and len(clock.sleeps) == 1, "the pause is over once the first thread waited"
    # Another thread is held until Retry-After has passed: it starts while the first thread waits it out.
    emulator.fault("/rest/api/2/myself", status=429, retry_after=1, times=1)
    second = []

    def while_the_first_waits(seconds):  # pylint: disable=unused-argument
        if not second:
            second.append(threading.Thread(target=lambda: c.get("/rest/api/2/issue/JJ-2")))
            second[0].start()
            second[0].join(30)

    clock = FakeClock(on_sleep=while_the_first_waits)
    c.clock = clock
    c.get("/rest/api/2/myself")
    assert len(clock.sleeps) == 2 and min(clock.sleeps) >= 1.0, clock.sleeps
    assert clock.sleepers[0] == second[0].ident != clock.sleepers[1], \
        "the second thread must wait out the first one's Retry-After before it sends"
    issue = emulator.requests("/rest/api/2/issue/JJ-2")[-1]
    refused = [r for r in emulator.requests("/rest/api/2/myself") if r["status"] == 429][-1]
    assert issue["time"] > refused["time"]


def test_a_pause_longer_than_the_budget_fails_fast(emulator):
    emulator.fault("/rest/api/2/myself", status=429, retry_after=30, times=1)
    c = client(emulator, retry_budget=3)
    errors = _together(1, lambda: c.get("/rest/api/2/myself"))
    assert isinstance(errors[0], JiraError) and "gave up" in str(errors[0])
    started = time.monotonic()
    with pytest.raises(JiraError) as err:
        c.get("/rest/api/2/issue/JJ-2")  # another thread (this one) may not wait 30 s within a 3 s budget
    assert time.monotonic() - started < 1
    assert "asked to wait 30s more" in str(err.value) and "retry_budget" in str(err.value)
    assert emulator.requests("/rest/api/2/issue/JJ-2") == []


def test_a_quota_reset_on_one_thread_stops_the_others_with_its_reason(emulator):
    emulator.fault("/rest/api/2/myself", status=429, reset_in=3600, times=1,
                   headers={"RateLimit-Reason": "jira-quota-tenant-based"})
    c = client(emulator, retry_budget=30)
    errors = _together(1, lambda: c.get("/rest/api/2/myself"))
    assert isinstance(errors[0], JiraError) and "gave up without waiting" in str(errors[0])
    started = time.monotonic()
    with pytest.raises(JiraError) as err:
        c.get("/rest/api/2/issue/JJ-2")  # the reset, not a Retry-After, paused the client
    assert time.monotonic() - started < 1
    msg = str(err.value)
    assert "request sent in parallel" in msg and "RateLimit-Reason: jira-quota-tenant-based" in msg
    assert emulator.requests("/rest/api/2/issue/JJ-2") == []


def test_more_connections_than_requests_keeps_by_default(emulator, caplog):
    emulator.fault("/rest/api/2/myself", kind="delay", delay=0.2, times=-1)
    c = client(emulator)
    c.use_connections(16)
    caplog.set_level(logging.WARNING, logger="urllib3.connectionpool")
    assert _together(16, lambda: c.get("/rest/api/2/myself").status) == [200] * 16
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]
    # Without it, urllib3 keeps 10 and throws the others away.
    other = client(emulator)
    assert _together(16, lambda: other.get("/rest/api/2/myself").status) == [200] * 16
    assert [r for r in caplog.records if "pool is full" in r.getMessage()]


def test_credentials_never_leave_the_configured_hosts(emulator):
    """Every module's requests go through here: a URL of another host is refused before any token is minted."""
    c = client(emulator, username=None, password=None, client_id="emu-2lo-client-0001",
               client_secret="emu-2lo-secret-0001-do-not-share", cloud_id="11111111-2222-3333-4444-555555555555")
    for url in ("http://127.0.0.1:1/x", "http://localhost" + emulator.url[len("http://127.0.0.1"):] + "/x",
                "https://" + emulator.url.split("://")[1] + "/x"):
        with pytest.raises(OptionError) as err:
            c.get(url)
        assert err.value.option == "path" and "not sent" in str(err.value)
    assert emulator.requests() == []


def test_paths_are_joined_to_the_base_never_parsed_as_urls(emulator):
    c = client(emulator)
    for path in ("/http://other.example.com/x", "//other.example.com/x", "/https:/other.example.com/x"):
        assert c.url_for(path).startswith(emulator.url + "/"), path
    assert c.url_for(emulator.url + "/rest") == emulator.url + "/rest"


def test_base_url_checks_name_the_option_and_hide_passwords(emulator):
    for url, words in (("https://u:topsecret@jira.example.com", "user name or password"),
                       ("https://jira.example.com?a=1", "query string"), ("http://[::1", "parsed"),
                       ("https://" + "h" * 300, "at most 253"), ("https://jira.example.com:0", "port 0")):
        with pytest.raises(OptionError) as err:
            client(emulator, url=url)
        assert err.value.option == "url" and words in str(err.value) and "topsecret" not in str(err.value)


def test_replies_past_max_response_size_fail_naming_it(emulator):
    with pytest.raises(JiraError) as err:
        client(emulator, max_response_size=100).get("/rest/api/2/issue/JJ-2")
    assert "max_response_size=100 " in str(err.value) and err.value.retries == 0
    assert len(emulator.requests("/rest/api/2/issue/JJ-2")) == 1, "a reply too large is not asked for again"


def test_auth_header_values_are_checked_before_sending(emulator):
    with pytest.raises(OptionError) as err:
        client(emulator, username=None, password=None, token="abcdefgh\n").get("/rest/api/2/myself")
    assert err.value.option == "token" and "abcdefgh" not in str(err.value)
    assert emulator.requests() == []
