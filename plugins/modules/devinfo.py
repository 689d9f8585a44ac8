#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: devinfo
short_description: Send development information (commits, branches, pull requests) to Jira Software Cloud
version_added: 0.1.0
description:
  - Submits repositories with their commits, branches and pull requests to Jira Software Cloud's development
    information API so that they show on the issues they name; or deletes repositories, single entities, or
    everything tagged with some properties.
  - Requests hold at most 100 repositories, 1000 entities in all and 400 of each entity type per repository; longer
    lists are split over as many requests as needed, sending a repository again with the next part of its entities.
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
      - Validates the repositories, looks up the cloud id if needed (a read) and returns in RV(would_send) the
        requests that would be sent; nothing is submitted or deleted.
      - With O(state=absent), reads what exists and reports what would be deleted.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  repositories:
    description:
      - The repositories, each a dict in the API's C(Repository) shape, with C(id) (letters, digits and C(~.-_)),
        C(name), C(url), and optional C(description), C(forkOf), C(avatar), C(avatarDescription), C(commits),
        C(branches) and C(pullRequests).
      - A commit needs C(id), C(issueKeys) (1 to 500), C(message) (longer than 1024 characters is cut, as Jira
        does), C(author), C(fileCount), C(url), C(authorTimestamp) and C(displayId). A branch needs C(id),
        C(issueKeys), C(name), C(lastCommit) (a commit) and C(url). A pull request needs C(id), C(issueKeys),
        C(status) (V(OPEN), V(MERGED), V(DECLINED), V(UNKNOWN)), C(title), C(author), C(commentCount),
        C(sourceBranch), C(lastUpdate), C(url) and C(displayId).
      - C(updateSequenceId) of repositories, commits, branches (and their C(lastCommit)) and pull requests
        defaults to the current time in milliseconds.
      - With O(state=absent), a repository given with only its C(id) is deleted with everything in it; one given
        with C(commits), C(branches) or C(pullRequests) (each with an C(id)) has just those entities deleted.
      - Required with O(state=present) unless O(src) is given (the two are mutually exclusive); an empty
        list sends nothing.
      - >-
        A JSON array given as text is read as the list, for example
        C(repositories: "{{ lookup('ansible.builtin.file', 'repositories.json') }}"). For thousands of entities this is
        much faster than a list variable, which Ansible handles item by item. O(src) is faster still: the
        module reads the file itself.
    type: raw
  prevent_transitions:
    description: C(preventTransitions) of the request; true stops smart commits and automatic issue transitions.
    type: bool
  operation_type:
    description:
      - C(operationType) of the request; V(BACKFILL) for historical data (higher rate limits, slower processing).
    type: str
    choices: [NORMAL, BACKFILL]
"""

EXAMPLES = r"""
- name: Send repositories exported to a JSON file
  jiraops.integration.devinfo:
    cloud_id: "{{ jira_cloud_id }}"
    token: "{{ jira_access_token }}"
    src: /var/lib/ci/repositories.json

- name: Send a commit and its branch
  jiraops.integration.devinfo:
    cloud_id: "{{ jira_cloud_id }}"
    token: "{{ jira_access_token }}"
    repositories:
      - id: pink-logo
        name: pink-logo
        url: https://git.example.com/jj/pink-logo
        commits:
          - id: 1b4a0c2e9f
            displayId: 1b4a0c2
            message: "JJ-12 make the logo pinker"
            issueKeys: [JJ-12]
            author:
              name: Alice Developer
              email: alice@example.com
            fileCount: 1
            url: https://git.example.com/jj/pink-logo/commit/1b4a0c2e9f
            authorTimestamp: "2024-05-01T12:30:00Z"
        branches:
          - id: feature-JJ-12-pink-logo
            name: feature/JJ-12-pink-logo
            issueKeys: [JJ-12]
            url: https://git.example.com/jj/pink-logo/tree/feature/JJ-12-pink-logo
            lastCommit: "{{ last_commit }}"

- name: Delete one branch
  jiraops.integration.devinfo:
    state: absent
    repositories:
      - id: pink-logo
        branches:
          - id: feature-JJ-12-pink-logo
"""

RETURN = r"""
accepted:
  description: What Jira accepted, one entry per repository with the ids of its accepted entities.
  returned: always
  type: list
  elements: dict
  sample: [{"repositoryId": "pink-logo", "commits": ["1b4a0c2e9f"], "branches": [], "pullRequests": []}]
unconfirmed:
  description:
    - Keys of the commits, branches and pull requests sent that no HTTP 202 reply accepted or rejected (the
      body was empty, or left them out).
    - Jira may or may not have stored them, so the task fails; sending them again is safe.
  returned: when a reply left any unconfirmed
  type: list
  elements: dict
  sample: [{"repositoryId": "pink-logo", "type": "commits", "id": "c1"}]
unchanged:
  description:
    - With O(skip_unchanged=true), the keys of the repositories not sent because Jira already stores them as given (see
      O(skip_unchanged) for what is compared), in input order.
  returned: with O(skip_unchanged=true) and O(state=present)
  type: list
  elements: dict
  sample: [{"repositoryId": "pink-logo"}]
rejected:
  description:
    - What Jira refused, with its error messages; C(key) is C({repositoryId}) for the repository itself or
      C({repositoryId, type, id}) for one of its entities.
  returned: always
  type: list
  elements: dict
unknown_issue_keys:
  description: Issue keys Jira does not know (the entities are stored against their other keys).
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
  description: Base URL of the development information API that was used.
  returned: when known
  type: str
deleted:
  description: What was deleted (or, in check mode, would be), or C({properties}) for a delete by properties.
  returned: when O(state=absent)
  type: list
  elements: raw
would_send:
  description: In check mode, the method, URL, number of requests and the request bodies that would be sent.
  returned: in check mode with O(state=present)
  type: dict
errors:
  description: "Every problem found in the input, as C(repositories[<index>].<field>: <problem>); nothing was sent."
  returned: when validation fails
  type: list
  elements: str
"""

from ansible_collections.jiraops.integration.plugins.module_utils import _devops

API = _devops.APIS["repositories"]


def main():
    module = _devops.new_module(API)
    module.run(lambda m: _devops.run(m, API))


if __name__ == "__main__":
    main()
