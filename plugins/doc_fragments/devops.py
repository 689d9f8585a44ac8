# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # Options and behaviour shared by build_info, deployment_info, devinfo and feature_flag.
    DOCUMENTATION = r"""
options:
  src:
    description:
      - Path of a file of entities on the host that runs the module, read by the module itself, instead of the
        inline entity list (C(builds), C(deployments), C(repositories) or C(flags), as the module names it); the
        two are mutually exclusive, and with O(state=present) one of them is required.
      - Either a JSON array of objects, or NDJSON (one JSON object per line; blank lines are skipped). A file
        whose first character other than white space is C([) is read as a JSON array.
      - For thousands of entities this is the fastest way in, since the entities are not passed to the module as
        an argument. The file must be a regular file (a FIFO or device is refused without reading) of at most
        256 MB, UTF-8.
      - A problem in the file fails the task before anything is sent, naming O(src) and the line (or, in a JSON
        array, the item) where it is.
      - With O(state=absent), the entities of the file are deleted by key, as for the inline list.
    type: path
  state:
    description:
      - V(present) submits the entities (insert or update).
      - V(absent) deletes them by key (only the key fields of each entity are used), or, when no entities are
        given, deletes everything tagged with O(properties).
      - Deleting by key reads each entity first so that C(changed) is true only when something was there; if the
        token may not read, the delete is sent anyway and counted as a change.
    type: str
    choices: [present, absent]
    default: present
  properties:
    description:
      - Up to 5 key/value strings tagged onto everything this task submits (C(properties) in the API), used later
        to delete by properties. Keys must not start with C(_) or contain C(:); keys and values at most 255
        characters. Numbers are sent as strings.
      - With O(state=absent) and no entities, deletes everything that has all of these properties.
    type: dict
  provider_metadata:
    description:
      - "C(providerMetadata) of the request, for example C({product: Jenkins 2.440})."
    type: dict
  fail_on_rejected:
    description:
      - Fail the task when Jira rejects any entity. The other entities are sent and stored all the same, and the
        failed result still lists RV(accepted) and RV(rejected).
    type: bool
    default: true
  fail_on_unknown_issue_keys:
    description:
      - Fail the task when Jira reports issue keys it does not know. Jira stores an entity against its known keys
        and ignores the others (an entity with only unknown keys is rejected).
    type: bool
    default: false
  api_route:
    description:
      - V(cloud) sends to Atlassian's API gateway, C({api_url}/jira/<api>/0.1/cloud/{cloud_id}/...), as
        integrations with OAuth 2.0 credentials must. The cloud id comes from O(cloud_id), or is looked up once
        from the site O(url) (C(GET {url}/_edge/tenant_info), sent without credentials whatever the auth method,
        so OAuth 2.0 client credentials need only O(url)).
      - V(site) sends to the site's own routes, C({url}/rest/<api>/<version>/...), as Connect apps do.
    type: str
    choices: [cloud, site]
    default: cloud
  parallel_requests:
    description:
      - How many submission requests (C(POST .../bulk)) go out at once, each over its own connection. V(1) sends
        one request at a time.
      - The first request goes alone, and so does each one until Jira has accepted one, so that a wrong token,
        scope or cloud id, or a batch Jira finds too large, is found with one request rather than several.
      - An HTTP 429 or 503 reply with C(Retry-After) pauses all of them, not only the request that got it.
      - The first error stops new requests; those already sent finish, and the failed result still lists what
        Jira accepted. RV(accepted) and RV(rejected) are in the order of the entities, whatever order the replies
        arrive in.
      - The order in which the requests reach Jira never decides which data wins, since a list that names the
        same entity twice (the same build, deployment, repository, commit, branch, pull request or flag) is refused
        before anything is sent. Should one reach the sending step all the same, its requests go one at a time so
        that the later entry reaches Jira last.
      - Deletions and gating status reads are always sent one at a time.
      - With O(skip_unchanged=true), the reads by key go up to this many at once too.
    type: int
    default: 4
  skip_unchanged:
    description:
      - With O(state=present), read each entity by key first (up to O(parallel_requests) reads at once) and send
        only those Jira does not already store as they would be sent; the others are listed in RV(unchanged). When
        none differ nothing is sent and C(changed) is false, so a re-run with the same data reports no change
        (Jira itself accepts a re-sent entity and reports it accepted).
      - "What is compared: every field that would be sent, except those filled on every run or added by Jira, at
        any depth: C(updateSequenceNumber), C(updateSequenceId), C(lastUpdated), C(schemaVersion), and a
        deployment's C(commands) (an instruction such as starting gating, not stored data). Lists of plain values
        (issue keys, association values) are compared in any order, date-times as instants (C(Z) or C(+00:00),
        with or without milliseconds), a number and its text as the same. A field Jira has that would not be sent
        counts as a difference (sending removes it) unless it is empty."
      - For development information, a repository is sent whole when its own fields or any commit, branch or
        pull request sent differs from the one Jira has with the same id; entities Jira has that are not sent are
        not compared, since sending leaves them in place.
      - O(properties) and O(provider_metadata) are not part of what Jira answers for an entity, so they are not
        compared.
      - When the token may not read (HTTP 403, the API's read scope such as C(read:build:jira-software) is
        missing), only the first read is made and every entity is sent, as without this option.
      - A deployment that is unchanged is not sent, so O(jiraops.integration.deployment_info#module:wait_for_gating) does not wait for it.
      - Ignored with O(state=absent), which reads before deleting anyway.
    type: bool
    default: false
notes:
  - >-
    Every entity is validated against the API's published rules (required fields, types, enums, lengths, counts,
    patterns, date-times, URLs) before anything is sent; all problems are reported at once as
    C(<list>[<index>].<field>: <problem>), and nothing is sent while any remain.
  - >-
    A field the published spec does not name is sent as given, with a warning that names it and the closest known
    field (C(did you mean label?)): Atlassian adds fields (deployments' C(triggeredBy)) before its published spec
    has them, and Jira accepts fields it does not know. A misspelt field therefore reaches Jira without effect;
    read the warnings. With O(state=absent) only the key fields are used and other fields are ignored.
  - Integers given as strings of digits (as environment variables are) are converted to integers.
  - Entities are sent in as few requests as the API's limits allow; when Jira answers HTTP 413 (too large), the
    batch is split in two and each half is sent again. HTTP 429 and 503 replies are waited out (O(max_retries),
    O(retry_budget), C(Retry-After) honoured).
  - Jira ignores, without failing, an update whose sequence number is not newer than the stored one; such an
    entity still counts as accepted.
  - Every entity sent must be named in Jira's HTTP 202 reply as accepted or rejected. One that is not (the reply
    left it out, or had an empty body) is listed in C(unconfirmed) and the task fails, since Jira may or may not
    have stored it; sending it again is safe.
  - >-
    In the result's C(invocation) (shown with C(-vvv)), an entity list of more than 10 entities is echoed as its
    count, for example C(<10000 builds>), not in full; the outcome for each entity is in RV(accepted) and
    RV(rejected). Secret options stay masked there as everywhere.
  - The OAuth 2.0 token needs the API's write scope (for example C(write:build:jira-software)), and its read
    scope for the reads this module makes (deletion by key, gating status).
seealso:
  - name: Integrating Jira Software Cloud with on-premises tools
    description: OAuth 2.0 credentials for the builds, deployments, development information and feature flags APIs.
    link: https://developer.atlassian.com/cloud/jira/software/integrate-jsw-cloud-with-onpremises-tools/
"""
