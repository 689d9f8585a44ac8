#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: build_info
short_description: Send build information to Jira Software Cloud, or delete it
version_added: 0.1.0
description:
  - Submits builds to Jira Software Cloud's builds API so that they show on the issues they name, in batches of
    100 per request; or deletes builds by key or by properties.
  - The builds are given in the API's own shape; the module fills the fields a CI job rarely has at hand and checks
    every build before sending any.
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
      - Validates the builds, looks up the cloud id if needed (a read) and returns in RV(would_send) the requests
        that would be sent; nothing is submitted or deleted.
      - With O(state=absent), reads what exists and reports what would be deleted.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  builds:
    description:
      - The builds, each a dict in the API's C(BuildData) shape.
      - Required fields are C(pipelineId) (string), C(buildNumber) (integer), C(displayName), C(url), C(state)
        (one of V(pending), V(in_progress), V(successful), V(failed), V(cancelled), V(unknown)) and C(issueKeys)
        (1 to 100 keys such as V(JJ-12)). Optional fields are C(description), C(label), C(testInfo)
        (C(totalNumber), C(numberPassed), C(numberFailed), C(numberSkipped)) and C(references) (1 to 5 items,
        each with C(commit) C({id, repositoryUri}) and/or C(ref) C({name, uri})).
      - C(updateSequenceNumber) defaults to the current time in milliseconds, C(lastUpdated) to now and
        C(schemaVersion) to V(1.0).
      - With O(state=absent) only C(pipelineId) and C(buildNumber) are used.
      - Required with O(state=present) unless O(src) is given (the two are mutually exclusive); an empty
        list sends nothing.
      - >-
        A JSON array given as text is read as the list, for example
        C(builds: "{{ lookup('ansible.builtin.file', 'builds.json') }}"). For thousands of entities this is
        much faster than a list variable, which Ansible handles item by item. O(src) is faster still: the
        module reads the file itself.
    type: raw
"""

EXAMPLES = r"""
- name: Send the builds a backfill job wrote to a file on the host that runs the module
  jiraops.integration.build_info:
    cloud_id: "{{ jira_cloud_id }}"
    token: "{{ jira_access_token }}"
    src: /var/lib/ci/builds.json

- name: Report this build on the issues named by the branch
  jiraops.integration.build_info:
    cloud_id: "{{ jira_cloud_id }}"
    token: "{{ jira_access_token }}"
    builds:
      - pipelineId: "{{ lookup('ansible.builtin.env', 'JOB_NAME') }}"
        buildNumber: "{{ lookup('ansible.builtin.env', 'BUILD_NUMBER') }}"
        displayName: "pink-logo #{{ lookup('ansible.builtin.env', 'BUILD_NUMBER') }}"
        url: "{{ lookup('ansible.builtin.env', 'BUILD_URL') }}"
        state: successful
        issueKeys: "{{ 'feature/JJ-12-pink-logo' | jiraops.integration.issue_keys }}"
        testInfo:
          totalNumber: 120
          numberPassed: 118
          numberFailed: 1
          numberSkipped: 1
  register: sent

- name: Look the cloud id up from the site URL (JIRA_URL) and tag the builds for later clean-up
  jiraops.integration.build_info:
    url: https://jira-junior.atlassian.net
    properties:
      ciServer: jenkins-eu-1
    provider_metadata:
      product: Jenkins 2.440
    builds: "{{ many_builds }}"
    fail_on_unknown_issue_keys: true

- name: Send only what Jira does not have yet (a re-run with the same data reports no change)
  jiraops.integration.build_info:
    url: https://jira-junior.atlassian.net
    skip_unchanged: true
    builds: "{{ lookup('ansible.builtin.file', 'builds.json') }}"
  register: sent

- name: Delete one build
  jiraops.integration.build_info:
    state: absent
    builds:
      - pipelineId: pink-logo
        buildNumber: 42

- name: Delete every build this CI server ever sent
  jiraops.integration.build_info:
    state: absent
    properties:
      ciServer: jenkins-eu-1
"""

RETURN = r"""
accepted:
  description: Keys of the builds Jira accepted (including updates it ignored as older than what it has).
  returned: always
  type: list
  elements: dict
  sample: [{"pipelineId": "pink-logo", "buildNumber": 42}]
unconfirmed:
  description:
    - Keys of the builds sent that no HTTP 202 reply accepted or rejected (the body was empty, or left
      them out).
    - Jira may or may not have stored them, so the task fails; sending them again is safe.
  returned: when a reply left any unconfirmed
  type: list
  elements: dict
  sample: [{"pipelineId": "pink-logo", "buildNumber": 44}]
unchanged:
  description:
    - With O(skip_unchanged=true), the keys of the builds not sent because Jira already stores them as given (see
      O(skip_unchanged) for what is compared), in input order.
  returned: with O(skip_unchanged=true) and O(state=present)
  type: list
  elements: dict
  sample: [{"pipelineId": "pink-logo", "buildNumber": 42}]
rejected:
  description:
    - Builds Jira refused, with its error messages; also a build Jira found too large (HTTP 413) on its own.
  returned: always
  type: list
  elements: dict
  sample: [{"key": {"pipelineId": "pink-logo", "buildNumber": 43}, "errors": [{"message": "..."}]}]
unknown_issue_keys:
  description: Issue keys Jira does not know, in the order first reported.
  returned: always
  type: list
  elements: str
  sample: ["UTF-8"]
requests:
  description: HTTP requests made, retries and the cloud id lookup included.
  returned: always
  type: int
  sample: 3
cloud_id:
  description: The cloud id used (given or looked up); null with O(api_route=site).
  returned: when known
  type: str
  sample: 11111111-2222-3333-4444-555555555555
url:
  description: Base URL of the builds API that was used.
  returned: when known
  type: str
  sample: https://api.atlassian.com/jira/builds/0.1/cloud/11111111-2222-3333-4444-555555555555
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
  description: "Every problem found in the input, as C(builds[<index>].<field>: <problem>); nothing was sent."
  returned: when validation fails
  type: list
  elements: str
  sample: ["builds[3].state: 'done' is not one of pending, in_progress, successful, failed, cancelled, unknown"]
"""

from ansible_collections.jiraops.integration.plugins.module_utils import _devops

API = _devops.APIS["builds"]


def main():
    module = _devops.new_module(API)
    module.run(lambda m: _devops.run(m, API))


if __name__ == "__main__":
    main()
