# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backfill_entities filter; its documentation is in backfill_entities.yml.

A history is replayed long after it happened, while live CI jobs keep reporting: every entity carries its commit's
time as updateSequenceNumber, so anything reported live (now) stays newer, and a replay sends the same numbers."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

from ansible.errors import AnsibleFilterError

from ansible_collections.jiraops.integration.plugins.filter.ci_facts import ci_state
from ansible_collections.jiraops.integration.plugins.filter.environment_type import environment_type
from ansible_collections.jiraops.integration.plugins.filter.issue_keys import issue_keys

FIELD = "\x1f"
RECORD = "\x1e"
LOG_FORMAT = "%H%x1f%ct%x1f%D%x1f%B%x1e"  # what the role asks git log for


def _commits(log):
    """(sha, unix time, tags, message) per commit of ``git log --format=LOG_FORMAT``, oldest first as given."""
    for record in log.split(RECORD):
        record = record.strip("\n")
        if not record:
            continue
        parts = record.split(FIELD)
        if len(parts) != 4 or not parts[1].isdigit():
            raise AnsibleFilterError("backfill_entities: the input is not git log output in the role's format")
        sha, when, decorations, message = parts
        tags = [d.strip()[len("tag: "):] for d in decorations.split(",") if d.strip().startswith("tag: ")]
        yield sha, int(when), tags, message


def _export(text, name="export"):
    """CI export rows keyed by commit: JSON (a list of objects) or CSV with a header row."""
    if not text:
        return {}
    text = text.lstrip("\ufeff")
    if text.lstrip()[:1] in ("[", "{"):
        try:
            rows = json.loads(text)
        except ValueError as exc:
            raise AnsibleFilterError(f"backfill_entities: {name} is not JSON: {exc}") from None
        rows = rows.get("builds", rows.get("items", [])) if isinstance(rows, dict) else rows
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
    out = {}
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or not str(row.get("commit") or "").strip():
            raise AnsibleFilterError(f"backfill_entities: {name} row {index + 1} has no commit column "
                                     "(columns: commit, and optionally number, state, url)")
        number = str(row.get("number") or "").strip()
        if number and not number.isdigit():
            raise AnsibleFilterError(f"backfill_entities: {name} row {index + 1}: number {number!r} is not digits")
        out[str(row["commit"]).strip().lower()] = row
    return out


def _row(rows, sha):
    if sha in rows:
        return rows[sha]
    for key, row in rows.items():  # exports often carry short hashes
        if len(key) >= 7 and sha.startswith(key):
            return row
    return {}


def backfill_entities(log, kind="builds", pipeline_id="", url="", mode="commits", export="", repository_url="",
                      environment="", environment_type_patterns=None, projects=None, state="successful"):
    """Builds or deployments for a history read from git, in order, with the commit time as sequence number."""
    if kind not in ("builds", "deployments"):
        raise AnsibleFilterError(f"backfill_entities: kind must be builds or deployments, not {kind!r}")
    if mode not in ("commits", "tags"):
        raise AnsibleFilterError(f"backfill_entities: mode must be commits or tags, not {mode!r}")
    if not pipeline_id or not url:
        raise AnsibleFilterError("backfill_entities: pipeline_id and url (a template with {number}, {commit}, "
                                 "{tag}) are required")
    if kind == "deployments" and not environment:
        raise AnsibleFilterError("backfill_entities: deployments need an environment name")
    rows = _export(export)
    out, messages, position = [], [], 0
    for sha, when, tags, message in _commits(log or ""):
        messages.append(message)
        if mode == "tags" and not tags:
            continue  # its message counts for the next tag
        position += 1
        keys = issue_keys(messages + tags, projects=projects or None)
        messages = []
        row = _row(rows, sha)
        if not keys:
            continue
        number = int(str(row.get("number") or "").strip() or position)
        tag = tags[0] if tags else ""
        link = str(row.get("url") or "").strip() or url.replace("{number}", str(number)).replace(
            "{commit}", sha).replace("{tag}", tag)
        stamp = datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        title = f"{pipeline_id} {tag or '#' + str(number)}"
        common = {"updateSequenceNumber": when * 1000, "lastUpdated": stamp, "url": link,
                  "state": ci_state(str(row.get("state") or "")) or state}
        if tag:
            common["label"] = tag[:255]
        subject = (message.strip().splitlines() or [""])[0][:255]
        if kind == "builds":
            build = dict(common, pipelineId=pipeline_id, buildNumber=number, displayName=title[:255],
                         issueKeys=keys[:500], description=subject)
            if repository_url:
                build["references"] = [{"commit": {"id": sha, "repositoryUri": repository_url}}]
            out.append({k: v for k, v in build.items() if v != ""})
        else:
            deployment = dict(common, deploymentSequenceNumber=number, displayName=f"{title} to {environment}"[:255],
                              description=subject or title,
                              pipeline={"id": pipeline_id, "displayName": pipeline_id, "url": link},
                              environment={"id": environment, "displayName": environment,
                                           "type": environment_type(environment, environment_type_patterns)},
                              associations=[{"associationType": "issueIdOrKeys", "values": keys[:500]}])
            out.append(deployment)
    return out


class FilterModule:
    def filters(self):
        return {"backfill_entities": backfill_entities}
