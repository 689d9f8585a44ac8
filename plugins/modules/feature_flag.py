#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: feature_flag
short_description: Send feature flag information to Jira Software Cloud, or delete it
version_added: 0.1.0
description:
  - Submits feature flags to Jira Software Cloud's feature flags API so that they show on the issues they name, in
    batches of 100 per request; or deletes flags by id or by properties.
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
      - Validates the flags, looks up the cloud id if needed (a read) and returns in RV(would_send) the requests
        that would be sent; nothing is submitted or deleted.
      - With O(state=absent), reads what exists and reports what would be deleted.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  flags:
    description:
      - The feature flags, each a dict in the API's C(FeatureFlagData) shape.
      - Required fields are C(id), C(key), C(issueKeys) (1 to 100), C(summary) (C(status) with C(enabled), and
        optional C(url), C(defaultValue), C(rollout)) and C(details) (at least one, each with C(url),
        C(environment) C({name, type}) and C(status)). C(displayName) is optional.
      - C(updateSequenceId) defaults to the current time in milliseconds, C(summary.lastUpdated) and
        C(details[].lastUpdated) to now, C(schemaVersion) to V(1.0).
      - With O(state=absent) only C(id) is used.
      - Required with O(state=present) unless O(src) is given (the two are mutually exclusive); an empty
        list sends nothing.
      - >-
        A JSON array given as text is read as the list, for example
        C(flags: "{{ lookup('ansible.builtin.file', 'flags.json') }}"). For thousands of entities this is
        much faster than a list variable, which Ansible handles item by item. O(src) is faster still: the
        module reads the file itself.
    type: raw
"""

EXAMPLES = r"""
- name: Send every flag of an NDJSON export
  jiraops.integration.feature_flag:
    cloud_id: "{{ jira_cloud_id }}"
    token: "{{ jira_access_token }}"
    src: /var/lib/ci/flags.ndjson

- name: Report the pink-logo flag
  jiraops.integration.feature_flag:
    cloud_id: "{{ jira_cloud_id }}"
    token: "{{ jira_access_token }}"
    flags:
      - id: pink-logo
        key: pink-logo
        displayName: Pink logo
        issueKeys: [JJ-12]
        summary:
          status:
            enabled: true
            defaultValue: "off"
            rollout:
              percentage: 25
        details:
          - url: https://flags.example.com/pink-logo/production
            environment:
              name: production
              type: production
            status:
              enabled: true
              rollout:
                percentage: 25

- name: Remove it again
  jiraops.integration.feature_flag:
    state: absent
    flags:
      - id: pink-logo
"""

RETURN = r"""
accepted:
  description: Ids of the flags Jira accepted (including updates it ignored as older than what it has).
  returned: always
  type: list
  elements: str
  sample: ["pink-logo"]
unconfirmed:
  description:
    - Keys of the feature flags sent that no HTTP 202 reply accepted or rejected (the body was empty, or left
      them out).
    - Jira may or may not have stored them, so the task fails; sending them again is safe.
  returned: when a reply left any unconfirmed
  type: list
  elements: raw
  sample: ["pink-logo"]
unchanged:
  description:
    - With O(skip_unchanged=true), the keys of the feature flags not sent because Jira already stores them as given (see
      O(skip_unchanged) for what is compared), in input order.
  returned: with O(skip_unchanged=true) and O(state=present)
  type: list
  elements: str
  sample: ["pink-logo"]
rejected:
  description: Flags Jira refused, as C({key, errors}) with C(key) the flag id.
  returned: always
  type: list
  elements: dict
unknown_issue_keys:
  description: Issue keys Jira does not know, in the order first reported.
  returned: always
  type: list
  elements: str
requests:
  description: HTTP requests made, retries and the cloud id lookup included.
  returned: always
  type: int
cloud_id:
  description: The cloud id used (given or looked up); null with O(api_route=site).
  returned: when known
  type: str
url:
  description: Base URL of the feature flags API that was used.
  returned: when known
  type: str
deleted:
  description: Ids deleted (or, in check mode, that would be), or C({properties}) for a delete by properties.
  returned: when O(state=absent)
  type: list
  elements: raw
would_send:
  description: In check mode, the method, URL, number of requests and the request bodies that would be sent.
  returned: in check mode with O(state=present)
  type: dict
errors:
  description: "Every problem found in the input, as C(flags[<index>].<field>: <problem>); nothing was sent."
  returned: when validation fails
  type: list
  elements: str
"""

from ansible_collections.jiraops.integration.plugins.module_utils import _devops

API = _devops.APIS["flags"]


def main():
    module = _devops.new_module(API)
    module.run(lambda m: _devops.run(m, API))


if __name__ == "__main__":
    main()
