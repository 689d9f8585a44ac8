# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The four DevOps APIs of Jira Software Cloud, one class each: builds, deployments, development information, flags.

Each class owns everything of its API: paths, limits, the entity key (defined once, as the fields it is made of,
for addressing, the duplicate check and the key-only rule of a delete), the payload rules, friendly defaults,
delete strategy, reply fields, extra options and result fields. ``_devops.run`` drives them without asking which
API it has. Development information, the largest, is in ``_devops_devinfo``.
"""
from __future__ import annotations

import operator
from urllib.parse import quote

from ansible_collections.jiraops.integration.plugins.module_utils import _bulk as bulk
from ansible_collections.jiraops.integration.plugins.module_utils import _devops_compare as compare
from ansible_collections.jiraops.integration.plugins.module_utils import _devops_schema as schema
from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._validate import check_items

GATEWAY_VERSION = "0.1"


def q(value):
    return quote(str(value), safe="")


class Key:
    """An entity's key: its names in the API's own shape, each with the dotted path of the entity field it is.

    ``scalar``: the API names an entity by its one key value alone (feature flags by their id).
    """

    def __init__(self, scalar=False, **paths):
        self.paths = {name: tuple(path.split(".")) for name, path in paths.items()}
        self.names = tuple(self.paths)
        self.scalar = scalar
        if all(len(path) == 1 for path in self.paths.values()):
            get = operator.itemgetter(*(path[0] for path in self.paths.values()))
            self.values = get if len(self.paths) > 1 else lambda entity: (get(entity),)
        else:
            self.values = self._walk

    def _walk(self, entity):
        """The key's values in order; KeyError or TypeError when the entity lacks one."""
        out = []
        for path in self.paths.values():
            value = entity
            for part in path:
                value = value[part]
            out.append(value)
        return tuple(out)

    def of(self, entity):
        values = self.values(entity)
        return values[0] if self.scalar else dict(zip(self.names, values))


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
    entity_key = None       # the fields that name an entity (a Key)
    rule = None             # the payload rule of one entity (_devops_schema)

    def __init__(self):
        # A delete names entities by their keys only: the same field rules, cut down to the key.
        self.key_rule = self.rule.subset(self.entity_key.paths.values(), self.key_only_fields())

    def key_only_fields(self):
        """Optional fields a delete by key may give beside the key."""
        return None

    def validate(self, entities, keys_only=False):
        """Every problem of the entities, by index and field; a key given twice is one.

        Digit strings in integer fields become integers in place; nothing else is changed. Fields the rules do
        not name are left in place and listed in ``errors.warnings``.
        """
        return check_items(self.key_rule if keys_only else self.rule, entities, self.kind,
                           key=self.entity_key.values, unknown=schema.UNKNOWN_FIELD)

    # -- addressing -------------------------------------------------------------------------------------------
    def base_url(self, client, route, cloud_id):
        if route == "site":
            return f"{client.site_base()}/rest/{self.product}/{self.site_version}"
        return f"{client.api_url}/jira/{self.product}/{GATEWAY_VERSION}/cloud/{q(cloud_id)}"

    def key(self, entity):
        """The entity's key in the API's own shape."""
        return self.entity_key.of(entity)

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
        if answered == keys:
            # The usual reply: every unit accepted, in the order sent. Normalising 10,000 keys to find none
            # missing costs more than the rest of reading the replies.
            return []
        seen = {same_key(key) for key in answered}
        return [key for key in keys if same_key(key) not in seen and self.reply_names(key, reply)]

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
            exists, _stored = probe(client, url)
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

    def after_submit(self, params, client, base, outcome):
        """API-specific steps after a successful submission (deployment gating)."""


class BuildsApi(DevopsApi):
    kind = "builds"
    noun = "build"
    product = "builds"
    accepted_field = "acceptedBuilds"
    rejected_field = "rejectedBuilds"
    read_scope = "read:build:jira-software"
    entity_key = Key(pipelineId="pipelineId", buildNumber="buildNumber")
    rule = schema.BUILD

    def item_path(self, key):
        return f"/pipelines/{q(key['pipelineId'])}/builds/{q(key['buildNumber'])}"


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
    entity_key = Key(pipelineId="pipeline.id", environmentId="environment.id",
                     deploymentSequenceNumber="deploymentSequenceNumber")
    rule = schema.DEPLOYMENT

    def item_path(self, key):
        return (f"/pipelines/{q(key['pipelineId'])}/environments/{q(key['environmentId'])}"
                f"/deployments/{q(key['deploymentSequenceNumber'])}")

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
        for option in ("gating_timeout", "gating_interval"):
            if params[option] <= 0:
                raise OptionError(option, f"must be a positive number of seconds, got {params[option]}")
        for deployment in entities:
            if not isinstance(deployment, dict):
                continue
            commands = deployment.get("commands")
            if commands is None:
                commands = deployment["commands"] = []
            if isinstance(commands, list) and not any(
                    isinstance(c, dict) and c.get("command") == self.GATING_COMMAND for c in commands):
                commands.append({"command": self.GATING_COMMAND})

    def after_submit(self, params, client, base, outcome):
        """With ``wait_for_gating``: poll each accepted deployment's gating status on the client's clock."""
        if not params.get("wait_for_gating") or not outcome.accepted:
            return
        timeout = params["gating_timeout"]
        interval = params["gating_interval"]
        clock = client.clock
        deadline = clock.monotonic() + timeout
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
            if clock.monotonic() + interval > deadline:
                outcome.gating_status = statuses
                raise JiraError(
                    f"deployment gating still awaiting after {timeout:g}s for "
                    + ", ".join(key_text(outcome.accepted[i])
                                + (" (gating status not readable yet: HTTP 404)" if i in unreadable else "")
                                for i in pending)
                    + " (raise gating_timeout, or approve the change request in Jira)")
            clock.sleep(interval)
        outcome.gating_status = statuses
        blocked = [(outcome.accepted[i], s.get("gatingStatus")) for i, s in enumerate(statuses)
                   if s.get("gatingStatus") in ("prevented", "invalid")]
        if blocked:
            raise JiraError("deployment gating did not allow "
                            + ", ".join(f"{key_text(k)} ({status})" for k, status in blocked))


class FeatureFlagsApi(DevopsApi):
    kind = "flags"
    noun = "feature flag"
    product = "featureflags"
    accepted_field = "acceptedFeatureFlags"
    read_scope = "read:feature-flag:jira-software"
    entity_key = Key(id="id", scalar=True)
    rule = schema.FLAG

    def item_path(self, key):
        return f"/flag/{q(key)}"

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


def same_key(key):
    """A key to compare sent and answered keys by: Jira may answer a number as text."""
    if isinstance(key, dict):
        return tuple(sorted((name, str(value)) for name, value in key.items()))
    return str(key)


def key_text(key):
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


def probe(client, url):
    """True/False when Jira says whether the item exists; None when the token may not read it."""
    resp = client.request("GET", url, expected=(200, 403, 404))
    if resp.status == 403:
        return None, None
    return resp.status == 200, resp.json
