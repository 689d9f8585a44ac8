# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jira Software Cloud's development information API (repositories with their commits, branches and pull requests).

Its class owns what differs from the other DevOps APIs: requests are packed from the repositories' entities (the
per-request and per-repository limits count them), replies name entities by repository, and a delete by key takes
whole repositories or single entities.
"""
from __future__ import annotations

from collections import OrderedDict

from ansible_collections.jiraops.integration.plugins.module_utils import _devops_compare as compare
from ansible_collections.jiraops.integration.plugins.module_utils import _devops_schema as schema
from ansible_collections.jiraops.integration.plugins.module_utils._devops_apis import DevopsApi, Key, probe, q
from ansible_collections.jiraops.integration.plugins.module_utils._validate import List


class DevinfoApi(DevopsApi):
    kind = "repositories"
    noun = "repository"
    product = "devinfo"
    site_version = "0.10"
    batch_limit = 100            # repositories per request
    entity_limit = 1000          # commits + branches + pull requests per request
    per_repository_limit = 400   # of each entity type per repository per request
    read_scope = "read:source-code:jira-software"
    ENTITY_PATHS = {"commits": "commit", "branches": "branch", "pullRequests": "pull_request"}
    entity_key = Key(repositoryId="id")
    rule = schema.REPOSITORY

    def key_only_fields(self):
        """A repository to delete may list the commits, branches and pull requests to delete, by id."""
        return {kind: List(self.rule.fields[kind].items.subset([("id",)])) for kind in schema.DEVINFO_ENTITY_TYPES}

    def item_path(self, key):
        return f"/repository/{q(key['repositoryId'])}"

    def unchanged(self, entity, stored):
        """The repository's own fields as a whole; each commit, branch and pull request sent against the stored
        one of the same id (Jira keeps the others whatever is sent, so they are not compared)."""
        if not isinstance(stored, dict):
            return False
        header = {k: v for k, v in entity.items() if k not in schema.DEVINFO_ENTITY_TYPES}
        if not compare.same(header, {k: v for k, v in stored.items() if k not in schema.DEVINFO_ENTITY_TYPES},
                            self.compare_ignored):
            return False
        for kind in schema.DEVINFO_ENTITY_TYPES:
            have = {str(item.get("id")): item for item in stored.get(kind) or [] if isinstance(item, dict)}
            for item in entity.get(kind) or []:
                if not compare.same(item, have.get(str(item.get("id"))), self.compare_ignored):
                    return False
        return True

    def units(self, entities):
        """One unit per commit, branch and pull request; a repository without any is one unit by itself."""
        out = []
        for index, repo in enumerate(entities):
            count = 0
            for kind in schema.DEVINFO_ENTITY_TYPES:
                for entity in repo.get(kind) or []:
                    out.append((index, repo, kind, entity))
                    count += 1
            if not count:
                out.append((index, repo, None, None))
        return out

    def pack(self, units):
        batches = []
        current, repos, entities, per_kind = [], set(), 0, {}
        for unit in units:
            index, _repo, kind, _entity = unit
            new_repo = index not in repos
            fits = (
                (not new_repo or len(repos) < self.batch_limit)
                and (kind is None or entities < self.entity_limit)
                and (kind is None or per_kind.get((index, kind), 0) < self.per_repository_limit)
            )
            if current and not fits:
                batches.append(current)
                current, repos, entities, per_kind = [], set(), 0, {}
            current.append(unit)
            repos.add(index)
            if kind is not None:
                entities += 1
                per_kind[(index, kind)] = per_kind.get((index, kind), 0) + 1
        if current:
            batches.append(current)
        return batches

    def payload(self, units):
        grouped = OrderedDict()
        for index, repo, kind, entity in units:
            body = grouped.get(index)
            if body is None:
                body = grouped[index] = {k: v for k, v in repo.items() if k not in schema.DEVINFO_ENTITY_TYPES}
            if kind is not None:
                body.setdefault(kind, []).append(entity)
        return {"repositories": list(grouped.values())}

    def unit_key(self, unit):
        _index, repo, kind, entity = unit
        key = {"repositoryId": repo["id"]}
        if kind is not None:
            key.update(type=kind, id=entity.get("id"))
        return key

    def delete_by_keys(self, client, base, entities, outcome, check):
        """A repository listed alone is deleted whole; one listed with entities loses only those entities."""
        for repo in entities:
            repo_url = base + self.item_path(self.key(repo))
            listed = [(kind, item["id"]) for kind in schema.DEVINFO_ENTITY_TYPES for item in repo.get(kind) or []]
            exists, stored = probe(client, repo_url)
            if not listed:
                if exists is not False:
                    if not check:
                        client.request("DELETE", repo_url, expected=(202, 204))
                    outcome.deleted.append({"repositoryId": repo["id"]})
                continue
            for kind, ident in listed:
                present = None if exists is None else bool(exists) and any(
                    item.get("id") == ident for item in (stored or {}).get(kind) or [])
                if present is False:
                    continue
                if not check:
                    client.request("DELETE", f"{repo_url}/{self.ENTITY_PATHS[kind]}/{q(ident)}", expected=(202, 204))
                outcome.deleted.append({"repositoryId": repo["id"], "type": kind, "id": ident})

    def has_data_matching(self, client, base, properties):
        resp = client.request("GET", base + "/existsByProperties", params=properties, expected=(200, 403))
        return resp.status != 200 or bool((resp.json or {}).get("hasDataMatchingProperties"))

    def fill_defaults(self, entity, seq, stamp):
        schema.fill(entity, "updateSequenceId", seq)
        for commit in entity.get("commits") or []:
            schema.fill(commit, "updateSequenceId", seq)
        for branch in entity.get("branches") or []:
            schema.fill(branch, "updateSequenceId", seq)
            if isinstance(branch, dict):
                schema.fill(branch.get("lastCommit"), "updateSequenceId", seq)
        for pull in entity.get("pullRequests") or []:
            schema.fill(pull, "updateSequenceId", seq)

    def request_fields(self, params):
        fields = {}
        if params.get("prevent_transitions") is not None:
            fields["preventTransitions"] = params["prevent_transitions"]
        if params.get("operation_type"):
            fields["operationType"] = params["operation_type"]
        return fields

    def extra_options(self):
        return {
            "prevent_transitions": {"type": "bool"},
            "operation_type": {"type": "str", "choices": ["NORMAL", "BACKFILL"]},
        }

    def merge(self, reply, outcome):
        accepted = reply.get("acceptedDevinfoEntities") or {}
        for repo_id, ids in accepted.items():
            entry = outcome.devinfo_accepted.get(repo_id)
            if entry is None:
                entry = outcome.devinfo_accepted[repo_id] = {"repositoryId": repo_id, "commits": [], "branches": [],
                                                             "pullRequests": []}
                outcome.accepted.append(entry)
            for kind in schema.DEVINFO_ENTITY_TYPES:
                entry[kind].extend((ids or {}).get(kind) or [])
        for repo_id, failure in (reply.get("failedDevinfoEntities") or {}).items():
            failure = failure or {}
            if failure.get("errorMessages"):
                outcome.rejected.append({"key": {"repositoryId": repo_id}, "errors": failure["errorMessages"]})
            for kind in schema.DEVINFO_ENTITY_TYPES:
                for item in failure.get(kind) or []:
                    outcome.rejected.append({"key": {"repositoryId": repo_id, "type": kind, "id": item.get("id")},
                                             "errors": item.get("errorMessages") or []})
        outcome.add_unknown(reply.get("unknownIssueKeys"))

    def answered_keys(self, reply):
        accepted = reply.get("acceptedDevinfoEntities")
        failed = reply.get("failedDevinfoEntities")
        if accepted is None and failed is None:
            return None
        keys = []
        for repo_id, ids in (accepted or {}).items():
            for kind in schema.DEVINFO_ENTITY_TYPES:
                keys.extend({"repositoryId": repo_id, "type": kind, "id": i} for i in (ids or {}).get(kind) or [])
        for repo_id, failure in (failed or {}).items():
            for kind in schema.DEVINFO_ENTITY_TYPES:
                keys.extend({"repositoryId": repo_id, "type": kind, "id": item.get("id")}
                            for item in (failure or {}).get(kind) or [] if isinstance(item, dict))
        return keys

    def reply_names(self, key, reply):
        # The reply lists entity ids by repository: a repository sent without entities has none to list, and a
        # repository refused as a whole (errorMessages) takes its entities with it.
        if "type" not in key:
            return False
        failure = (reply.get("failedDevinfoEntities") or {}).get(str(key["repositoryId"])) or {}
        return not failure.get("errorMessages")
