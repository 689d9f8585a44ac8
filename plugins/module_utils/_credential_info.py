# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How long each credential has left, before an integration stops: grants in a token store (file or Vault),
OAuth 1.0a access tokens in their stores, and Data Center personal access tokens as Jira lists them.

Every fact is a date or a count of days; no token, secret or fingerprint is ever part of a report.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._oauth1 import TokenStore as OAuth1TokenStore
# Atlassian's rotating refresh tokens: unusable after 90 days without a refresh, and 365 days after the grant.
from ansible_collections.jiraops.integration.plugins.module_utils._oauth2 import GRANT_MAX_AGE, REFRESH_IDLE_LIMIT

DAY = 86400.0
# Jira issues OAuth 1.0a access tokens for 5 years (oauth_expires_in).
OAUTH1_ACCESS_DAYS = 5 * 365
PAT_PATH = "/rest/pat/latest/tokens"


def iso(epoch):
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _days(epoch, now):
    return None if epoch is None else round((epoch - now) / DAY, 1)


def _item(source, kind, name, limits, now, facts=None, note=None):
    """One credential: its limits (label -> epoch or None), the nearest one deciding ``days_left``."""
    known = {label: at for label, at in limits.items() if at is not None}
    nearest = min(known, key=known.get) if known else None
    item = {"source": source, "kind": kind, "name": name,
            "limits": {label: iso(at) for label, at in limits.items()},
            "expires_at": iso(known[nearest]) if nearest else None,
            "days_left": _days(known[nearest], now) if nearest else None,
            "limited_by": nearest}
    item.update(facts or {})
    if note:
        item["note"] = note
    return item


def grants(store, source, now):
    """Every entry of an OAuth 2.0 token store."""
    out = []
    for key, entry in sorted(store.read()["entries"].items()):
        if not isinstance(entry, dict):
            continue
        provider, kind = entry.get("provider"), entry.get("kind")
        name = f"{provider} {kind} {entry.get('client_id')}"
        facts = {"client_id": entry.get("client_id"), "provider": provider, "token_url": entry.get("token_url"),
                 "access_token_expires_at": iso(entry.get("expires_at")),
                 "access_token_expires_in": (int(entry["expires_at"] - now) if entry.get("expires_at") is not None
                                             else None), "store_key": key}
        if kind == "user":
            last_used = entry.get("obtained_at")
            granted = entry.get("granted_at")
            facts.update(refresh_token_last_used=iso(last_used), granted_at=iso(granted))
            if provider == "cloud":
                limits = {
                    "refresh_token_inactivity": last_used + REFRESH_IDLE_LIMIT if last_used else None,
                    "refresh_token_absolute": granted + GRANT_MAX_AGE if granted else None,
                }
                note = None if granted else ("the store does not say when the user authorized (older entry), so "
                                             "the 365-day absolute limit is not known")
            else:
                limits = {}
                note = "Jira Data Center does not report a refresh-token lifetime; the access token is refreshed"
            out.append(_item(source, "oauth2_user_grant", name, limits, now, facts, note))
        else:
            # A client-credentials token is simply requested again: its expiry never stops an integration.
            out.append(_item(source, "oauth2_client_credentials", name, {}, now, facts,
                             "a new access token is requested when this one expires"))
    return out


def oauth1_tokens(path, now):
    """The OAuth 1.0a access token in a store written by the oauth1_token module."""
    data = OAuth1TokenStore(path, None, None).load()
    if not data.get("access_token"):
        raise OptionError("oauth1_token_stores", f"{path} holds no OAuth 1.0a access token (only a request token, "
                                                 "or nothing): finish the dance with the oauth1_token module")
    expires = data.get("access_token_expires_at")
    issued = data.get("updated")
    if expires is None and issued:
        expires = issued + OAUTH1_ACCESS_DAYS * DAY
    facts = {"consumer_key": data.get("consumer_key"), "url": data.get("url"), "issued_at": iso(issued),
             "age_days": round((now - issued) / DAY, 1) if issued else None}
    return _item(path, "oauth1_access_token", data.get("consumer_key"), {"access_token": expires}, now, facts)


def _jira_time(value):
    """Jira's 2026-05-03T10:32:15.123+0000 (or ISO 8601 with a colon or Z)."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def personal_access_tokens(client, names, now):
    """What Jira Data Center lists for the caller's PATs (it never shows the token, so they are named)."""
    try:
        listed = client.get(PAT_PATH).json
    except JiraError as exc:
        if exc.status in (404, 405):
            raise JiraError("this Jira does not list personal access tokens (Jira Data Center 8.14+ does; Jira "
                            "Cloud has none): remove pat_names", status=exc.status, method=exc.method,
                            path=exc.path, option="pat_names") from None
        raise
    by_name = {t.get("name"): t for t in listed or [] if isinstance(t, dict)}
    out = []
    for name in names:
        token = by_name.get(name)
        if token is None:
            raise OptionError("pat_names", f"Jira lists no personal access token named {name!r} for this user "
                                           f"(it lists: {', '.join(sorted(map(str, by_name))) or 'none'})")
        created = _jira_time(token.get("createdAt"))
        facts = {"created_at": iso(created), "age_days": round((now - created) / DAY, 1) if created else None,
                 "last_accessed_at": iso(_jira_time(token.get("lastAccessedAt")))}
        note = None if token.get("expiringAt") else "Jira reports no expiry for this token"
        out.append(_item(client.url, "personal_access_token", name,
                         {"expiry": _jira_time(token.get("expiringAt"))}, now, facts, note))
    return out


def judge(items, warn_days, fail_days):
    """Status per item: expired, fail, warn or ok (unknown limits are ok but carry a note)."""
    for item in items:
        days = item["days_left"]
        if days is None:
            item["status"] = "ok"
        elif days <= 0:
            item["status"] = "expired"
        elif fail_days is not None and days <= fail_days:
            item["status"] = "fail"
        elif warn_days is not None and days <= warn_days:
            item["status"] = "warn"
        else:
            item["status"] = "ok"
    return items


def describe(item):
    return (f"{item['kind']} {item['name']} ({item['source']}): {item['limited_by']} at {item['expires_at']}, "
            f"{item['days_left']} days left")


def now():
    return time.time()
