"""Playbook scenarios for the secrets scan (integration targets are added automatically)."""
from __future__ import annotations

import os

from reliability_support import REPO, SecretScenario


def _demo(ctx):
    """demo/demo.yml as scripts/demo.sh runs it, signed in as a planted user with a planted password and PAT."""
    password = f"Pl4nted-Passw0rd-{ctx['token']}"
    pat = f"pl4nted-pat-{ctx['token']}"
    state = ctx["state"]
    with state.lock:
        state.users["planted"] = {"name": "planted", "password": password, "displayName": "Planted User",
                                  "emailAddress": "planted@example.com", "accountId": "emu-planted", "admin": False}
        state.pats[pat] = "planted"
    env = {"JIRA_URL": ctx["url"], "JIRA_API_URL": ctx["url"], "JIRA_AUTH_URL": ctx["url"],
           "JIRA_USERNAME": "planted", "JIRA_PASSWORD": password, "JIRAOPS_DEMO_PAT": pat,
           "JIRAOPS_DEMO_DIR": os.path.join(ctx["tmp"], "demo")}
    return os.path.join(REPO, "demo", "demo.yml"), [], env, [password, pat]


SECRET_SCENARIOS = [
    SecretScenario("demo playbook", playbook=_demo, requires_modules=("rsa_keypair",)),
]
