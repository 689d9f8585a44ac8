# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Submitting and deleting Jira Software Cloud DevOps data: builds, deployments, development information, flags.

One task for the four APIs (``run``): validate everything first, pack the entities into as few requests as the
API's limits allow, send them through the collection's one client (which waits out 429s) with ``_bulk`` over up to
``parallel_requests`` connections at once, and merge the per-item replies into one result in input order. What
differs between the APIs is their class's (``_devops_apis``, ``_devops_devinfo``). Failures are raised as
``JiraError`` carrying the result so far; ``JiraModule.run`` alone turns them into the task's failure.
"""
from __future__ import annotations

import contextlib
import gc
import json
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.jiraops.integration.plugins.module_utils import _bulk as bulk
from ansible_collections.jiraops.integration.plugins.module_utils import _cloud_id as cloud_ids
from ansible_collections.jiraops.integration.plugins.module_utils import _devops_schema as schema
from ansible_collections.jiraops.integration.plugins.module_utils import _entity_file
from ansible_collections.jiraops.integration.plugins.module_utils._client import BULK_MAX_RESPONSE_SIZE
from ansible_collections.jiraops.integration.plugins.module_utils._devops_apis import (
    BuildsApi,
    DeploymentsApi,
    FeatureFlagsApi,
    Outcome,
    key_text,
)
from ansible_collections.jiraops.integration.plugins.module_utils._devops_devinfo import DevinfoApi
from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._module import JiraModule

MAX_LISTED_PROBLEMS = 25
DEFAULT_PARALLEL_REQUESTS = 4

APIS = {api.kind: api for api in (BuildsApi(), DeploymentsApi(), DevinfoApi(), FeatureFlagsApi())}


# -- the module -------------------------------------------------------------------------------------------------------
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


def run(module, api):
    """The whole task for one of the four modules: validate, look up, send or delete, and report."""
    params = module.params
    parallel = parallel_requests(params)
    entities = _entity_file.entities(params, api.kind, entity_list)
    with collector_skips_what_exists():
        return _run(module, api, params, parallel, entities)


def _run(module, api, params, parallel, entities):
    if entities:
        module.summarise_option(api.kind, len(entities))
    validate(module, api, entities)
    task = Task(module, api)
    try:
        if params["state"] == "present" and not entities:
            return task.result(cloud_id=params.get("cloud_id"), changed=False,
                               msg=f"no {api.noun}s given; nothing to send")
        task.resolve_base()
        if params["state"] == "absent":
            return task.delete(entities)
        if params.get("skip_unchanged"):
            entities = task.skip_unchanged(entities, parallel)
            if not entities:
                count = plural(len(task.outcome.unchanged), api.noun)
                return task.result(changed=False, msg=f"Jira already has the {count} as given; nothing sent")
        common = common_fields(api, params)
        if module.check_mode:
            return task.would_send(entities, common)
        submit(task.client, api, task.base, entities, common, task.outcome, parallel=parallel)
        api.after_submit(params, task.client, task.base, task.outcome)
    except JiraError as exc:
        exc.result = task.partial()
        raise
    return task.report()


@contextlib.contextmanager
def collector_skips_what_exists():
    """Python's cycle collector left out of the objects that exist now (the entities read) until the run ends.

    10,000 builds are about 100,000 dicts and lists, and hold no reference cycles; each collection of the young
    generations while they are young walks them all again (~0.1 s of a task). Frozen, they are still freed as
    usual when no longer referenced; at the end they go back to the oldest generation.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# -- the steps of a run ---------------------------------------------------------------------------------------------
def parallel_requests(params):
    parallel = params.get("parallel_requests")
    parallel = DEFAULT_PARALLEL_REQUESTS if parallel is None else parallel
    if parallel < 1:
        raise OptionError("parallel_requests", f"must be 1 or more (1 sends one request at a time), got {parallel}")
    return parallel


def validate(module, api, entities):
    """Every problem of the options and entities at once, raised before anything is sent; defaults filled first."""
    params = module.params
    properties = params.get("properties")
    errors = schema.validate_request(properties, params.get("provider_metadata"))
    if params["state"] == "present":
        if entities is None:
            raise OptionError(api.kind, f"is required with state=present (the {api.noun}s to send)")
        api.apply_defaults(entities)
        api.prepare(entities, params)
        errors.merge(api.validate(entities))
    else:
        if entities and properties:
            raise OptionError(api.kind, f"with state=absent give either {api.kind} (delete by key) or properties "
                                        "(delete everything tagged with them), not both")
        if not entities and not properties:
            raise OptionError(api.kind, f"state=absent needs {api.kind} (to delete by key) or properties "
                                        "(to delete by properties)")
        if entities:
            # Only the keys are used (a delete sends no entity), so fields beside them do not matter.
            errors.extend(api.validate(entities, keys_only=True))
    warn_unknown_fields(module, errors.warnings)
    if errors:
        raise JiraError(problems_message(errors, api.noun, len(entities or [])), result={
            "errors": list(errors), "requests": 0, "changed": False, "accepted": [], "rejected": [],
            "unknown_issue_keys": []})


def common_fields(api, params):
    """The request-level fields sent beside the entities."""
    common = {}
    if params.get("properties"):
        common["properties"] = params["properties"]
    if params.get("provider_metadata"):
        common["providerMetadata"] = params["provider_metadata"]
    common.update(api.request_fields(params))
    return common


class Task:
    """One run's place (client, base URL, cloud id) and what Jira said so far (``outcome``)."""

    def __init__(self, module, api):
        self.module = module
        self.api = api
        self.params = module.params
        self.outcome = Outcome()
        self.client = None
        self.base = None
        self.cloud_id = None

    def resolve_base(self):
        self.client = self.module.client
        self.base, self.cloud_id = resolve_base(self.client, self.params, self.api)

    def result(self, **fields):
        """The keys every result has, then ``fields``."""
        outcome = self.outcome
        result = {} if outcome.unchanged is None else {"unchanged": outcome.unchanged}
        result.update({
            "accepted": outcome.accepted,
            "rejected": outcome.rejected,
            "unknown_issue_keys": outcome.unknown_issue_keys,
            "requests": self.client.requests_made if self.client is not None else 0,
            "cloud_id": self.cloud_id,
            "url": self.base,
        })
        result.update(fields)
        return result

    def partial(self):
        """The result of a run that failed: what was done before."""
        outcome = self.outcome
        result = self.result(changed=bool(outcome.accepted or outcome.deleted))
        if outcome.gating_status is not None:
            result["gating_status"] = outcome.gating_status
        if outcome.unconfirmed:
            result["unconfirmed"] = outcome.unconfirmed
        return result

    def delete(self, entities):
        """By key (each entity that exists), else everything tagged with ``properties``."""
        client, api, base, outcome = self.client, self.api, self.base, self.outcome
        check = self.module.check_mode
        if entities:
            api.delete_by_keys(client, base, entities, outcome, check)
        elif api.has_data_matching(client, base, self.params["properties"]):
            if not check:
                client.request("DELETE", base + "/bulkByProperties", params=self.params["properties"],
                               expected=(202, 204))
            outcome.deleted.append({"properties": dict(self.params["properties"])})
        return self.result(changed=bool(outcome.deleted), deleted=outcome.deleted)

    def skip_unchanged(self, entities, parallel):
        """The entities Jira does not already store as given; the others' keys go to ``outcome.unchanged``."""
        entities, self.outcome.unchanged = split_unchanged(self.client, self.api, self.base, entities, parallel)
        return entities

    def would_send(self, entities, common):
        """Check mode: the requests that would be sent."""
        bodies = [dict(common, **self.api.payload(units)) for units in self.api.pack(self.api.units(entities))]
        return self.result(changed=True, would_send={"method": "POST", "url": self.base + "/bulk",
                                                     "requests": len(bodies), "payloads": bodies},
                           msg=f"check mode: would send {plural(len(entities), self.api.noun)} "
                               f"in {plural(len(bodies), 'request')}")

    def report(self):
        """The result of a submission; raised when Jira did not take everything the options require."""
        outcome, params = self.outcome, self.params
        result = self.result(changed=bool(outcome.accepted))
        result.update(self.api.extra_result(outcome))
        problems = []
        if outcome.unconfirmed:
            result["unconfirmed"] = outcome.unconfirmed
            problems.append(
                f"{len(outcome.unconfirmed)} not confirmed (Jira's HTTP 202 reply neither accepted nor rejected them, "
                "so they may or may not be stored; sending again is safe): "
                + ", ".join(key_text(k) for k in outcome.unconfirmed[:10])
                + ("; ..." if len(outcome.unconfirmed) > 10 else ""))
        if outcome.rejected and params["fail_on_rejected"]:
            problems.append(f"{len(outcome.rejected)} rejected: " + "; ".join(
                f"{key_text(r['key'])}: " + ", ".join(_message(e) for e in r["errors"]) for r in outcome.rejected[:10])
                + ("; ..." if len(outcome.rejected) > 10 else ""))
        if outcome.unknown_issue_keys and params["fail_on_unknown_issue_keys"]:
            problems.append("unknown issue keys: " + ", ".join(outcome.unknown_issue_keys))
        if problems:
            raise JiraError(f"Jira did not take everything ({len(outcome.accepted)} accepted): "
                            + " | ".join(problems), result=result)
        result["msg"] = (f"{len(outcome.accepted)} accepted, {len(outcome.rejected)} rejected, "
                         f"{len(outcome.unknown_issue_keys)} unknown issue keys, in {result['requests']} requests")
        return result


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


def submit(client, api, base, entities, common, outcome, parallel=1):
    """POST the entities in as few requests as the limits allow, up to ``parallel`` at once (``_bulk``).

    Replies are merged in the entities' order whatever order they arrive in; on an error, ``outcome`` holds what
    was accepted before it is raised. Validation has refused any key given twice, so no two requests in flight
    carry the same entity.
    """
    url = base + "/bulk"

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
        replies = bulk.send_batches(api.pack(api.units(entities)), send, parallel=parallel, split=api.split,
                                    start_parallel=start_parallel, debug=lambda text: client.debug("HTTP 413: " + text))
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


# -- messages -------------------------------------------------------------------------------------------------------
def plural(count, noun):
    return f"{count} {noun}{'s' if count != 1 else ''}"


def problems_message(errors, noun, count):
    shown = errors[:MAX_LISTED_PROBLEMS]
    text = (f"{plural(len(errors), 'problem')} found in {plural(count, noun)}; nothing was sent: "
            + "; ".join(shown))
    if len(errors) > len(shown):
        text += f"; ... and {len(errors) - len(shown)} more (see errors)"
    return text


def warn_unknown_fields(module, warnings):
    """One warning per unknown field, up to MAX_LISTED_PROBLEMS; 10,000 builds with one new field stay readable."""
    for warning in warnings[:MAX_LISTED_PROBLEMS]:
        module.warn(warning)
    if len(warnings) > MAX_LISTED_PROBLEMS:
        module.warn(f"... and {len(warnings) - MAX_LISTED_PROBLEMS} more unknown fields, also sent as given")


def _message(error):
    if isinstance(error, dict):
        return str(error.get("message") or json.dumps(error))
    return str(error)


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
