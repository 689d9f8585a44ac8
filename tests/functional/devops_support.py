"""What the DevOps module tests share: the cloud id, a CI token, module arguments and valid builds."""
from __future__ import annotations

CLOUD_ID = "11111111-2222-3333-4444-555555555555"
TOKEN = "ci-token-all-devops-scopes"
BULK = f"/jira/builds/0.1/cloud/{CLOUD_ID}/bulk"


def args(emu, **kw):
    base = {"api_url": emu.url, "cloud_id": CLOUD_ID, "token": TOKEN, "retry_budget": 20}
    base.update(kw)
    return base


def builds(n, start=0, **kw):
    out = []
    for i in range(start, start + n):
        b = {"pipelineId": "pink-logo", "buildNumber": i, "displayName": f"pink-logo #{i}",
             "url": f"https://ci.example.com/job/pink-logo/{i}", "state": "successful", "issueKeys": ["JJ-12"]}
        b.update(kw)
        out.append(b)
    return out
