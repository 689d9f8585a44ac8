#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: deployment_info
short_description: Send deployment information to Jira Software Cloud, optionally wait for deployment gating
version_added: 0.1.0
description:
  - Submits deployments to Jira Software Cloud's deployments API so that they show on the issues they name, in
    batches of 100 per request; or deletes deployments by key or by properties.
  - Can ask Jira to gate the deployment (change management) and wait until Jira allows or prevents it.
author: jiraops maintainers (@jiraops)
extends_documentation_fragment:
  - jiraops.integration.connection
  - jiraops.integration.auth
  - jiraops.integration.vault
  - jiraops.integration.attributes
  - jiraops.integration.devops
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Validates the deployments, looks up the cloud id if needed (a read) and returns in RV(would_send) the
        requests that would be sent; nothing is submitted, deleted or waited for.
      - With O(state=absent), reads what exists and reports what would be deleted.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  deployments:
    description:
      - The deployments, each a dict in the API's C(DeploymentData) shape.
      - >-
        Required fields are C(deploymentSequenceNumber) (integer, unique per pipeline and environment),
        C(displayName), C(url), C(description), C(state) (one of V(unknown), V(pending), V(in_progress),
        V(cancelled), V(failed), V(rolled_back), V(successful)), C(pipeline) C({id, displayName, url}),
        C(environment) C({id, displayName, type}) with C(type) one of V(unmapped), V(development), V(testing),
        V(staging), V(production), and C(associations) (preferred; 1 to 3 entries such as
        C({associationType: issueIdOrKeys, values: [JJ-12]}), at most 500 values in total) or the deprecated
        C(issueKeys). Optional fields are C(label), C(duration) and C(commands).
      - C(updateSequenceNumber) defaults to the current time in milliseconds, C(lastUpdated) to now and
        C(schemaVersion) to V(1.0).
      - With O(state=absent) only C(deploymentSequenceNumber), C(pipeline.id) and C(environment.id) are used.
      - Required with O(state=present) unless O(src) is given (the two are mutually exclusive); an empty
        list sends nothing.
      - >-
        A JSON array given as text is read as the list, for example
        C(deployments: "{{ lookup('ansible.builtin.file', 'deployments.json') }}"). For thousands of entities this is
        much faster than a list variable, which Ansible handles item by item. O(src) is faster still: the
        module reads the file itself.
    type: raw
  wait_for_gating:
    description:
      - Ask Jira to gate each deployment (the C(initiate_deployment_gating) command is added when missing) and,
        after submitting, poll each accepted deployment's gating status until it is no longer V(awaiting).
      - Jira does not have the gating status at once, so the first reads after a submission can answer HTTP 404;
        a 404 counts as V(awaiting) until O(gating_timeout).
      - The task fails when a deployment is V(prevented) or V(invalid), or still V(awaiting) after
        O(gating_timeout); RV(gating_status) is returned either way.
    type: bool
    default: false
  gating_timeout:
    description: Seconds to wait for gating before failing.
    type: float
    default: 600
  gating_interval:
    description: Seconds between two reads of the gating status.
    type: float
    default: 10
"""

EXAMPLES = r"""
- name: Send the deployments listed in an NDJSON file, one per line
  jiraops.integration.deployment_info:
    cloud_id: "{{ jira_cloud_id }}"
    token: "{{ jira_access_token }}"
    src: /var/lib/ci/deployments.ndjson

- name: Report a deployment to staging
  jiraops.integration.deployment_info:
    cloud_id: "{{ jira_cloud_id }}"
    token: "{{ jira_access_token }}"
    deployments:
      - deploymentSequenceNumber: 57
        displayName: pink-logo 1.4.0 to staging
        description: Deployed by Ansible
        url: https://ci.example.com/job/pink-logo/57
        state: successful
        pipeline:
          id: pink-logo-deploy
          displayName: Pink logo deployment
          url: https://ci.example.com/job/pink-logo
        environment:
          id: staging-eu
          displayName: Staging EU
          type: staging
        associations:
          - associationType: issueIdOrKeys
            values: [JJ-12, JJ-2]

- name: Deploy to production only when the change request allows it
  jiraops.integration.deployment_info:
    deployments: "{{ production_deployments }}"
    wait_for_gating: true
    gating_timeout: 1800
    gating_interval: 30
  register: gate

- name: Show the gating decision
  ansible.builtin.debug:
    msg: "{{ gate.gating_status[0].gatingStatus }}"
"""

RETURN = r"""
accepted:
  description: Keys of the deployments Jira accepted (including updates it ignored as older than what it has).
  returned: always
  type: list
  elements: dict
  sample: [{"pipelineId": "pink-logo-deploy", "environmentId": "staging-eu", "deploymentSequenceNumber": 57}]
unconfirmed:
  description:
    - Keys of the deployments sent that no HTTP 202 reply accepted or rejected (the body was empty, or left
      them out).
    - Jira may or may not have stored them, so the task fails; sending them again is safe.
  returned: when a reply left any unconfirmed
  type: list
  elements: dict
  sample: [{"pipelineId": "deploy", "environmentId": "production", "deploymentSequenceNumber": 7}]
unchanged:
  description:
    - With O(skip_unchanged=true), the keys of the deployments not sent because Jira already stores them as given (see
      O(skip_unchanged) for what is compared), in input order.
  returned: with O(skip_unchanged=true) and O(state=present)
  type: list
  elements: dict
  sample: [{"pipelineId": "deploy", "environmentId": "staging", "deploymentSequenceNumber": 7}]
rejected:
  description: Deployments Jira refused, with its error messages.
  returned: always
  type: list
  elements: dict
unknown_issue_keys:
  description: Issue keys Jira does not know, in the order first reported.
  returned: always
  type: list
  elements: str
unknown_associations:
  description: Associations Jira does not know, as it reported them.
  returned: when O(state=present)
  type: list
  elements: dict
requests:
  description: HTTP requests made, retries, gating reads and the cloud id lookup included.
  returned: always
  type: int
  sample: 1
gating_status:
  description:
    - With O(wait_for_gating), the last gating status read for each accepted deployment, in the order of
      RV(accepted), in the API's shape (C(gatingStatus) V(allowed), V(prevented), V(awaiting) or V(invalid),
      C(details), C(updatedTimestamp)).
  returned: when O(wait_for_gating=true) and something was accepted
  type: list
  elements: dict
  sample: [{"gatingStatus": "allowed", "details": [], "pipelineId": "pink-logo-deploy"}]
cloud_id:
  description: The cloud id used (given or looked up); null with O(api_route=site).
  returned: when known
  type: str
url:
  description: Base URL of the deployments API that was used.
  returned: when known
  type: str
deleted:
  description: Keys deleted (or, in check mode, that would be), or C({properties}) for a delete by properties.
  returned: when O(state=absent)
  type: list
  elements: raw
would_send:
  description: In check mode, the method, URL, number of requests and the request bodies that would be sent.
  returned: in check mode with O(state=present)
  type: dict
errors:
  description: "Every problem found in the input, as C(deployments[<index>].<field>: <problem>); nothing was sent."
  returned: when validation fails
  type: list
  elements: str
"""

from ansible_collections.jiraops.integration.plugins.module_utils import _devops

API = _devops.APIS["deployments"]


def main():
    module = _devops.new_module(API)
    module.run(lambda m: _devops.run(m, API))


if __name__ == "__main__":
    main()
