# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Submitting and deleting Jira Software Cloud DevOps data: builds, deployments, development information, flags.

One loop for the four APIs: validate everything first (``_devops_schema``), pack the entities into as few
requests as the API's limits allow, send them through the collection's one client (which waits out 429s) over up
to ``parallel_requests`` connections at once, split a batch in two when Jira answers 413, and merge the per-item
replies into one result in input order. What differs between the APIs (paths, limits, reply fields, keys) is
described by one small ``DevopsApi`` subclass each.
"""
from __future__ import annotations

import json
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from ansible_collections.jiraops.integration.plugins.module_utils import _bulk as bulk
from ansible_collections.jiraops.integration.plugins.module_utils import _cloud_id as cloud_ids
from ansible_collections.jiraops.integration.plugins.module_utils import _devops_compare as compare
from ansible_collections.jiraops.integration.plugins.module_utils import _devops_schema as schema
from ansible_collections.jiraops.integration.plugins.module_utils import _entity_file
from ansible_collections.jiraops.integration.plugins.module_utils._client import BULK_MAX_RESPONSE_SIZE
from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._module import JiraModule

GATEWAY_VERSION = "0.1"
MAX_LISTED_PROBLEMS = 25
DEFAULT_PARALLEL_REQUESTS = 4


def _q(value):
    return quote(str(value), safe="")


class DevopsApi:
    """What one DevOps API looks like; subclasses fill in the differences."""

    kind = ""               # module option and payload list key: builds, deployments, repositories, flags
    noun = ""               # one entity, for messages
    product = ""            # URL segment: builds, deployments, devinfo, featureflags
    site_version = "0.1"    # version on the site routes (/rest/<product>/<version>)
    batch_limit = 100       # entities per request
    accepted_field = ""
    rejected_field = ""
    read_scope = ""         # named when skip_unchanged may not read
    compare_ignored = compare.IGNORED   # fields skip_unchanged does not compare

    # -- addressing -------------------------------------------------------------------------------------------
    def base_url(self, client, route, cloud_id):
        if route == "site":
            return f"{client.site_base()}/rest/{self.product}/{self.site_version}"
        return f"{client.api_url}/jira/{self.product}/{GATEWAY_VERSION}/cloud/{_q(cloud_id)}"

    def key(self, entity):
        """The entity's key in the API's own shape."""
        raise NotImplementedError

    def item_path(self, key):
        raise NotImplementedError

    def unchanged(self, entity, stored):
        """Whether ``stored`` (Jira's reply to a read by key) already holds ``entity``."""
        return compare.same(entity, stored, self.compare_ignored)

    # -- batching ---------------------------------------------------------------------------------------------
    def units(self, entities):
        """The smallest pieces a request can be split into."""
        return list(entities)

    def pack(self, units):
        """Group units into requests that respect the API's limits."""
        size = self.batch_limit
        return [units[i:i + size] for i in range(0, len(units), size)]

    def payload(self, units):
        return {self.kind: list(units)}

    def unit_key(self, unit):
        return self.key(unit)

    split = staticmethod(bulk.halve)

    # -- replies ----------------------------------------------------------------------------------------------
    def merge(self, reply, outcome):
        outcome.accepted.extend(reply.get(self.accepted_field) or [])
        for item in reply.get(self.rejected_field) or []:
            outcome.rejected.append({"key": item.get("key"), "errors": item.get("errors") or []})
        outcome.add_unknown(reply.get("unknownIssueKeys"))

    def answered_keys(self, reply):
        """The keys the reply accepts or rejects; None when it has none of the fields that say so."""
        if self.accepted_field not in reply and self.rejected_field not in reply:
            return None
        return list(reply.get(self.accepted_field) or []) + [
            item.get("key") for item in reply.get(self.rejected_field) or [] if isinstance(item, dict)]

    def unconfirmed(self, reply, units):
        """The units a 202 reply neither accepts nor rejects: Jira may or may not have stored them."""
        keys = [self.unit_key(unit) for unit in units]
        answered = self.answered_keys(reply)
        if answered is None:
            return keys
        seen = {_same_key(key) for key in answered}
        return [key for key in keys if _same_key(key) not in seen and self.reply_names(key, reply)]

    def reply_names(self, key, reply):
        """Whether a reply that answers at all must name this unit."""
        return True

    # -- module hooks -----------------------------------------------------------------------------------------
    def apply_defaults(self, entities, seq=None, stamp=None):
        """Fill what a CI job rarely has at hand: sequence numbers (now, in ms), ``lastUpdated`` (now), schemaVersion.

        One clock reading is used for the whole call so that every entity of one task carries the same sequence
        number.
        """
        seq = schema.now_ms() if seq is None else seq
        stamp = stamp or schema.now_iso(seq)
        for entity in entities:
            if isinstance(entity, dict):
                self.fill_defaults(entity, seq, stamp)
        return entities

    def fill_defaults(self, entity, seq, stamp):
        schema.fill(entity, "updateSequenceNumber", seq)
        schema.fill(entity, "lastUpdated", stamp)
        schema.fill(entity, "schemaVersion", "1.0")

    def delete_by_keys(self, client, base, entities, outcome, check):
        """Delete each entity that exists (or may: the token cannot read), recording its key in ``outcome``."""
        for entity in entities:
            key = self.key(entity)
            url = base + self.item_path(key)
            exists, _stored = _probe(client, url)
            if exists is False:
                continue
            if not check:
                client.request("DELETE", url, expected=(202, 204))
            outcome.deleted.append(key)

    def has_data_matching(self, client, base, properties):
        """Whether anything may be tagged with ``properties`` (a delete by properties is needed)."""
        return True

    def extra_result(self, outcome):
        """Result keys of this API beside the common ones."""
        return {}

    def extra_options(self):
        return {}

    def request_fields(self, params):
        """Request-level fields beside the entity list (besides properties and providerMetadata)."""
        return {}

    def prepare(self, entities, params):
        """API-specific adjustments after the defaults and before validation."""

    def after_submit(self, module, client, base, outcome):
        """API-specific steps after a successful submission (deployment gating)."""


class BuildsApi(DevopsApi):
    kind = "builds"
    noun = "build"
    product = "builds"
    accepted_field = "acceptedBuilds"
    rejected_field = "rejectedBuilds"
    read_scope = "read:build:jira-software"

    def key(self, entity):
        return {"pipelineId": entity["pipelineId"], "buildNumber": entity["buildNumber"]}

    def item_path(self, key):
        return f"/pipelines/{_q(key['pipelineId'])}/builds/{_q(key['buildNumber'])}"


class DeploymentsApi(DevopsApi):
    kind = "deployments"
    noun = "deployment"
    product = "deployments"
    accepted_field = "acceptedDeployments"
    rejected_field = "rejectedDeployments"
    read_scope = "read:deployment:jira-software"
    GATING_COMMAND = "initiate_deployment_gating"
    # commands ask Jira to do something (start gating); they are not part of the deployment Jira stores.
    compare_ignored = compare.IGNORED | {"commands"}

    def key(self, entity):
        return {"pipelineId": entity["pipeline"]["id"], "environmentId": entity["environment"]["id"],
                "deploymentSequenceNumber": entity["deploymentSequenceNumber"]}

    def item_path(self, key):
        return (f"/pipelines/{_q(key['pipelineId'])}/environments/{_q(key['environmentId'])}"
                f"/deployments/{_q(key['deploymentSequenceNumber'])}")

    def merge(self, reply, outcome):
        super().merge(reply, outcome)
        for item in reply.get("unknownAssociations") or []:
            if item not in outcome.unknown_associations:
                outcome.unknown_associations.append(item)

    def extra_result(self, outcome):
        extra = {"unknown_associations": outcome.unknown_associations}
        if outcome.gating_status is not None:
            extra["gating_status"] = outcome.gating_status
        return extra

    def extra_options(self):
        return {
            "wait_for_gating": {"type": "bool", "default": False},
            "gating_timeout": {"type": "float", "default": 600},
            "gating_interval": {"type": "float", "default": 10},
        }

    def prepare(self, entities, params):
        if not params.get("wait_for_gating"):
            return
        if params["gating_timeout"] <= 0:
            raise OptionError("gating_timeout", f"must be a positive number of seconds, got {params['gating_timeout']}")
        if params["gating_interval"] <= 0:
            raise OptionError("gating_interval", f"must be a positive number of seconds, got {params['gating_interval']}")
        for deployment in entities:
            if not isinstance(deployment, dict):
                continue
            commands = deployment.get("commands")
            if commands is None:
                commands = deployment["commands"] = []
            if isinstance(commands, list) and not any(
                    isinstance(c, dict) and c.get("command") == self.GATING_COMMAND for c in commands):
                commands.append({"command": self.GATING_COMMAND})

    def after_submit(self, module, client, base, outcome):
        if not module.params.get("wait_for_gating") or not outcome.accepted:
            return
        timeout = module.params["gating_timeout"]
        interval = module.params["gating_interval"]
        deadline = time.monotonic() + timeout
        pending = list(range(len(outcome.accepted)))
        statuses = [None] * len(outcome.accepted)
        unreadable = set()
        while True:
            still = []
            for index in pending:
                key = outcome.accepted[index]
                # Jira creates the gating status a moment after it accepts the deployment: until then the
                # resource answers 404 (Atlassian's Jenkins plugin retries it too), which means "not decided yet".
                resp = client.request("GET", base + self.item_path(key) + "/gating-status", expected=(200, 404))
                if resp.status == 404:
                    unreadable.add(index)
                    still.append(index)
                    continue
                unreadable.discard(index)
                statuses[index] = resp.json
                if (resp.json or {}).get("gatingStatus") == "awaiting":
                    still.append(index)
            pending = still
            if not pending:
                break
            if time.monotonic() + interval > deadline:
                outcome.gating_status = statuses
                raise JiraError(
                    f"deployment gating still awaiting after {timeout:g}s for "
                    + ", ".join(_key_text(outcome.accepted[i])
                                + (" (gating status not readable yet: HTTP 404)" if i in unreadable else "")
                                for i in pending)
                    + " (raise gating_timeout, or approve the change request in Jira)")
            time.sleep(interval)
        outcome.gating_status = statuses
        blocked = [(outcome.accepted[i], s.get("gatingStatus")) for i, s in enumerate(statuses)
                   if s.get("gatingStatus") in ("prevented", "invalid")]
        if blocked:
            raise JiraError("deployment gating did not allow "
                            + ", ".join(f"{_key_text(k)} ({status})" for k, status in blocked))


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

    def key(self, entity):
        return {"repositoryId": entity["id"]}

    def item_path(self, key):
        return f"/repository/{_q(key['repositoryId'])}"

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
            exists, stored = _probe(client, repo_url)
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
                    client.request("DELETE", f"{repo_url}/{self.ENTITY_PATHS[kind]}/{_q(ident)}", expected=(202, 204))
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


class FeatureFlagsApi(DevopsApi):
    kind = "flags"
    noun = "feature flag"
    product = "featureflags"
    accepted_field = "acceptedFeatureFlags"
    read_scope = "read:feature-flag:jira-software"

    def key(self, entity):
        return entity["id"]

    def item_path(self, key):
        return f"/flag/{_q(key)}"

    def fill_defaults(self, entity, seq, stamp):
        schema.fill(entity, "updateSequenceId", seq)
        schema.fill(entity, "schemaVersion", "1.0")
        schema.fill(entity.get("summary"), "lastUpdated", stamp)
        for detail in entity.get("details") or []:
            schema.fill(detail, "lastUpdated", stamp)

    def answered_keys(self, reply):
        if self.accepted_field not in reply and "failedFeatureFlags" not in reply:
            return None
        return list(reply.get(self.accepted_field) or []) + list(reply.get("failedFeatureFlags") or {})

    def merge(self, reply, outcome):
        outcome.accepted.extend(reply.get(self.accepted_field) or [])
        for flag_id, errors in (reply.get("failedFeatureFlags") or {}).items():
            outcome.rejected.append({"key": flag_id, "errors": errors or []})
        outcome.add_unknown(reply.get("unknownIssueKeys"))


APIS = {api.kind: api for api in (BuildsApi(), DeploymentsApi(), DevinfoApi(), FeatureFlagsApi())}


def _same_key(key):
    """A key to compare sent and answered keys by: Jira may answer a number as text."""
    if isinstance(key, dict):
        return tuple(sorted((name, str(value)) for name, value in key.items()))
    return str(key)


def _key_text(key):
    if isinstance(key, dict):
        return "/".join(str(v) for v in key.values())
    return str(key)


class Outcome:
    """What the replies said, merged over all requests."""

    def __init__(self):
        self.accepted = []
        self.rejected = []
        self.unknown_issue_keys = []
        self._unknown_seen = set()
        self.unknown_associations = []
        self.devinfo_accepted = {}
        self.deleted = []
        self.gating_status = None
        self.unconfirmed = []
        self.unchanged = None      # with skip_unchanged: the keys not sent because Jira has them as they are

    def add_unknown(self, keys):
        for key in keys or []:
            if key not in self._unknown_seen:
                self._unknown_seen.add(key)
                self.unknown_issue_keys.append(key)


# -- option spec ------------------------------------------------------------------------------------------------------
def new_module(api):
    """The module for ``api``: its options, ``src`` rules, and a reply limit for replies that list every entity."""
    return JiraModule(argument_spec=argument_spec(api), supports_check_mode=True, reply_limit=BULK_MAX_RESPONSE_SIZE,
                      **_entity_file.module_constraints(api.kind))


def argument_spec(api):
    spec = {
        # A list, or the same list as JSON text: thousands of entities read with lookup('file', ...) skip Ansible's
        # per-item templating and argument handling, which costs seconds per task for 10,000 builds.
        api.kind: {"type": "raw"},
        "properties": {"type": "dict"},
        "provider_metadata": {"type": "dict"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "fail_on_rejected": {"type": "bool", "default": True},
        "fail_on_unknown_issue_keys": {"type": "bool", "default": False},
        "api_route": {"type": "str", "default": "cloud", "choices": ["cloud", "site"]},
        "parallel_requests": {"type": "int", "default": DEFAULT_PARALLEL_REQUESTS},
        "skip_unchanged": {"type": "bool", "default": False},
    }
    spec.update(api.extra_options())
    spec.update(_entity_file.SPEC)
    return spec


# -- the parts of a run -----------------------------------------------------------------------------------------------
def resolve_base(client, params, api):
    """The API's base URL; with the cloud route, the cloud id comes from ``cloud_id`` or the site's tenant_info."""
    route = params.get("api_route") or "cloud"
    if route == "site":
        if not client.url:
            raise OptionError("url", "api_route=site needs the Jira site URL (or set JIRA_URL)")
        return api.base_url(client, route, None), None
    cloud_id = params.get("cloud_id")
    if not cloud_id:
        if not client.url:
            raise OptionError("cloud_id", "give cloud_id (or set JIRA_CLOUD_ID), or url (JIRA_URL) of the Jira Cloud "
                                          "site so that its cloud id can be looked up")
        cloud_id = cloud_ids.tenant_info(client, client.url)
    return api.base_url(client, route, cloud_id), cloud_id


def problems_message(errors, noun, count):
    shown = errors[:MAX_LISTED_PROBLEMS]
    text = (f"{len(errors)} problem{'s' if len(errors) != 1 else ''} found in {count} {noun}"
            f"{'s' if count != 1 else ''}; nothing was sent: " + "; ".join(shown))
    if len(errors) > len(shown):
        text += f"; ... and {len(errors) - len(shown)} more (see errors)"
    return text


def warn_unknown_fields(module, warnings):
    """One warning per unknown field, up to MAX_LISTED_PROBLEMS; 10,000 builds with one new field stay readable."""
    for warning in warnings[:MAX_LISTED_PROBLEMS]:
        module.warn(warning)
    if len(warnings) > MAX_LISTED_PROBLEMS:
        module.warn(f"... and {len(warnings) - MAX_LISTED_PROBLEMS} more unknown fields, also sent as given")


def _key_id(key):
    return repr(sorted(key.items())) if isinstance(key, dict) else repr(key)


def repeated_key(api, entities, units):
    """The first entity (or devinfo unit) key given twice, else None."""
    for keys in ((api.key(e) for e in entities), (api.unit_key(u) for u in units)):
        seen = set()
        for key in keys:
            ident = _key_id(key)
            if ident in seen:
                return key
            seen.add(ident)
    return None


def submit(client, api, base, entities, common, outcome, parallel=1):
    """POST the entities in as few requests as the limits allow, up to ``parallel`` at once (``_bulk``).

    Replies are merged in the entities' order whatever order they arrive in; on an error, ``outcome`` holds what
    was accepted before it is raised. Validation refuses a key given twice; should a caller pass one anyway, the
    requests go one at a time, so that the later entry reaches Jira last.
    """
    url = base + "/bulk"
    units = api.units(entities)
    batches = api.pack(units)
    if parallel > 1 and len(batches) > 1:
        repeated = repeated_key(api, entities, units)
        if repeated is not None:
            client.debug(f"{_key_text(repeated)} is given more than once: sending one request at a time")
            parallel = 1

    def send(batch):
        body = dict(common)
        body.update(api.payload(batch))
        # Idempotent: every entity is keyed and sequence-numbered, so a resend after a dropped reply is ignored or
        # replaces the same data; retry it like a PUT.
        resp = client.request("POST", url, json=body, expected=(202, 413), retry=True)
        if resp.status == 413:
            return bulk.TOO_LARGE
        # A 202 without a JSON object (an empty body from a proxy or an outage) confirms nothing.
        return resp.json if isinstance(resp.json, dict) else {}

    def start_parallel(count):
        client.use_connections(count)
        client.ensure_authenticated()

    try:
        replies = bulk.send_batches(batches, send, parallel=parallel, split=api.split, start_parallel=start_parallel,
                                    debug=lambda text: client.debug("HTTP 413: " + text))
    except JiraError as exc:
        _merge_replies(api, getattr(exc, "partial", []), outcome)
        raise
    _merge_replies(api, replies, outcome)


def _merge_replies(api, replies, outcome):
    for reply, batch in replies:
        if reply is None:
            outcome.rejected.append({"key": api.unit_key(batch[0]), "errors": [
                {"message": f"HTTP 413: Jira found this {api.noun} too large to accept even when sent alone"}]})
        else:
            api.merge(reply, outcome)
            outcome.unconfirmed.extend(api.unconfirmed(reply, batch))


def split_unchanged(client, api, base, entities, parallel):
    """The entities to send, and the keys of those Jira already stores as they would be sent.

    Each entity is read by key, up to ``parallel`` at once. The first read goes alone: when the token may not read
    (HTTP 403), nothing more is read and everything is sent, as it would be without ``skip_unchanged``.
    """
    def read(entity):
        resp = client.request("GET", base + api.item_path(api.key(entity)), expected=(200, 403, 404))
        return resp.status, resp.status == 200 and api.unchanged(entity, resp.json)

    first_status, first_same = read(entities[0])
    if first_status == 403:
        client.debug(f"skip_unchanged: the token may not read {api.noun}s (HTTP 403; {api.read_scope} is needed), "
                     "so every one is sent")
        return list(entities), []
    rest = entities[1:]
    parallel = min(parallel, len(rest)) or 1
    if parallel > 1:
        client.use_connections(parallel)
        with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="jiraops-devops-read") as pool:
            answers = list(pool.map(read, rest))
    else:
        answers = [read(entity) for entity in rest]
    flags = [first_same] + [is_same for _status, is_same in answers]
    send = [entity for entity, is_same in zip(entities, flags) if not is_same]
    return send, [api.key(entity) for entity, is_same in zip(entities, flags) if is_same]


def plan(api, entities, common):
    """What check mode reports: the requests that would be sent."""
    batches = api.pack(api.units(entities))
    bodies = []
    for units in batches:
        body = dict(common)
        body.update(api.payload(units))
        bodies.append(body)
    return bodies


def _probe(client, url):
    """True/False when Jira says whether the item exists; None when the token may not read it."""
    resp = client.request("GET", url, expected=(200, 403, 404))
    if resp.status == 403:
        return None, None
    return resp.status == 200, resp.json


def delete_by_keys(module, client, api, base, entities, outcome):
    api.delete_by_keys(client, base, entities, outcome, module.check_mode)


def delete_by_properties(module, client, api, base, properties, outcome):
    if not api.has_data_matching(client, base, properties):
        return
    if not module.check_mode:
        client.request("DELETE", base + "/bulkByProperties", params=properties, expected=(202, 204))
    outcome.deleted.append({"properties": dict(properties)})


def _result(outcome, client, cloud_id, base):
    result = {} if outcome.unchanged is None else {"unchanged": outcome.unchanged}
    result.update({
        "accepted": outcome.accepted,
        "rejected": outcome.rejected,
        "unknown_issue_keys": outcome.unknown_issue_keys,
        "requests": client.requests_made if client is not None else 0,
        "cloud_id": cloud_id,
        "url": base,
    })
    return result


def entity_list(value, option):
    """The entities as a list: given as a list, or as a JSON array in a string."""
    if value is None or isinstance(value, list):
        return value
    if isinstance(value, (str, bytes)):
        text = value.decode("utf-8") if isinstance(value, bytes) else value
        if not text.strip():
            return []
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise OptionError(option, f"is text but not JSON ({exc}); give a list, or a JSON array as text") from None
        if isinstance(value, list):
            return value
    raise OptionError(option, f"must be a list (or a JSON array as text), not {type(value).__name__}")


def run(module, api):
    """The whole task for one of the four modules: validate, look up, send or delete, and report."""
    params = module.params
    state = params["state"]
    parallel = params.get("parallel_requests")
    parallel = DEFAULT_PARALLEL_REQUESTS if parallel is None else parallel
    if parallel < 1:
        raise OptionError("parallel_requests", f"must be 1 or more (1 sends one request at a time), got {parallel}")
    entities = _entity_file.entities(params, api.kind, entity_list)
    if entities:
        module.summarise_option(api.kind, len(entities))
    properties = params.get("properties")
    errors = schema.validate_request(properties, params.get("provider_metadata"))
    if state == "present":
        if entities is None:
            raise OptionError(api.kind, f"is required with state=present (the {api.noun}s to send)")
        api.apply_defaults(entities)
        api.prepare(entities, params)
        errors.merge(schema.validate(api.kind, entities))
    else:
        if entities and properties:
            raise OptionError(api.kind, f"with state=absent give either {api.kind} (delete by key) or properties "
                                        "(delete everything tagged with them), not both")
        if not entities and not properties:
            raise OptionError(api.kind, f"state=absent needs {api.kind} (to delete by key) or properties "
                                        "(to delete by properties)")
        if entities:
            # Only the keys are used (a delete sends no entity), so fields beside them do not matter.
            errors.extend(schema.validate(api.kind, entities, keys_only=True))
    warn_unknown_fields(module, errors.warnings)
    if errors:
        module.fail_json(msg=problems_message(errors, api.noun, len(entities or [])), errors=list(errors), requests=0,
                         changed=False, accepted=[], rejected=[], unknown_issue_keys=[])

    outcome = Outcome()
    client = None
    cloud_id = None
    base = None
    try:
        if state == "present" and not entities:
            result = _result(outcome, client, params.get("cloud_id"), None)
            result.update(changed=False, msg=f"no {api.noun}s given; nothing to send")
            return result
        client = module.client
        base, cloud_id = resolve_base(client, params, api)
        if state == "absent":
            if entities:
                delete_by_keys(module, client, api, base, entities, outcome)
            else:
                delete_by_properties(module, client, api, base, properties, outcome)
            result = _result(outcome, client, cloud_id, base)
            result.update(changed=bool(outcome.deleted), deleted=outcome.deleted)
            return result
        common = {}
        if properties:
            common["properties"] = properties
        if params.get("provider_metadata"):
            common["providerMetadata"] = params["provider_metadata"]
        common.update(api.request_fields(params))
        if params.get("skip_unchanged"):
            entities, outcome.unchanged = split_unchanged(client, api, base, entities, parallel)
            if not entities:
                result = _result(outcome, client, cloud_id, base)
                count = len(outcome.unchanged)
                result.update(changed=False, msg=f"Jira already has the {count} {api.noun}{'s' if count != 1 else ''} "
                                                 "as given; nothing sent")
                return result
        if module.check_mode:
            bodies = plan(api, entities, common)
            result = _result(outcome, client, cloud_id, base)
            result.update(changed=True, would_send={"method": "POST", "url": base + "/bulk",
                                                    "requests": len(bodies), "payloads": bodies},
                          msg=f"check mode: would send {len(entities)} {api.noun}{'s' if len(entities) != 1 else ''} "
                              f"in {len(bodies)} request{'s' if len(bodies) != 1 else ''}")
            return result
        submit(client, api, base, entities, common, outcome, parallel=parallel)
        api.after_submit(module, client, base, outcome)
    except JiraError as exc:
        partial = _result(outcome, client, cloud_id, base)
        partial["changed"] = bool(outcome.accepted or outcome.deleted)
        if outcome.gating_status is not None:
            partial["gating_status"] = outcome.gating_status
        if outcome.unconfirmed:
            partial["unconfirmed"] = outcome.unconfirmed
        module.fail_from(exc, **partial)

    result = _result(outcome, client, cloud_id, base)
    result["changed"] = bool(outcome.accepted)
    result.update(api.extra_result(outcome))
    problems = []
    if outcome.unconfirmed:
        result["unconfirmed"] = outcome.unconfirmed
        problems.append(
            f"{len(outcome.unconfirmed)} not confirmed (Jira's HTTP 202 reply neither accepted nor rejected them, so "
            "they may or may not be stored; sending again is safe): "
            + ", ".join(_key_text(k) for k in outcome.unconfirmed[:10])
            + ("; ..." if len(outcome.unconfirmed) > 10 else ""))
    if outcome.rejected and params["fail_on_rejected"]:
        problems.append(f"{len(outcome.rejected)} rejected: " + "; ".join(
            f"{_key_text(r['key'])}: " + ", ".join(_message(e) for e in r["errors"]) for r in outcome.rejected[:10])
            + ("; ..." if len(outcome.rejected) > 10 else ""))
    if outcome.unknown_issue_keys and params["fail_on_unknown_issue_keys"]:
        problems.append("unknown issue keys: " + ", ".join(outcome.unknown_issue_keys))
    if problems:
        module.fail_json(msg=f"Jira did not take everything ({len(outcome.accepted)} accepted): "
                             + " | ".join(problems), **result)
    result["msg"] = (f"{len(outcome.accepted)} accepted, {len(outcome.rejected)} rejected, "
                     f"{len(outcome.unknown_issue_keys)} unknown issue keys, in {result['requests']} requests")
    return result


def _message(error):
    if isinstance(error, dict):
        return str(error.get("message") or json.dumps(error))
    return str(error)
