#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: git_info
short_description: Read HEAD, branch, commit messages and the origin URL of a git checkout
version_added: 0.1.0
author: jiraops maintainers (@jiraops)
description:
  - Reads what the report roles send to Jira from a git checkout, in one module run (HEAD, its branch, the
    checkout's top directory, whether it is a shallow clone, the messages of the commits since O(since) (or of the
    last O(commit_count)), the last subject and the origin remote's URL with any credentials removed).
  - Runs C(git) as a subprocess with an argument list, never through a shell; a ref that starts with C(-) is refused.
  - When O(since) is not in the checkout, RV(since_problem) says why (a shallow clone, with how to fetch the history
    on each CI system, or no such commit) and the last O(commit_count) commits are read, unless O(require_since).
  - Fails with a message saying what is wrong when O(path) does not exist, is not a git checkout or has no commits,
    rather than with git's own words alone.
  - Used by the P(jiraops.integration.git_facts#role) role. The module never talks to Jira.
requirements:
  - git (on the host that runs the module)
options:
  path:
    description: The checkout, or any directory inside it.
    type: path
    required: true
  since:
    description:
      - Read the messages of the commits after this commit or ref (C(<since>..HEAD)). Empty reads the last
        O(commit_count) commits.
    type: str
    default: ""
  require_since:
    description: Fail, rather than read the last O(commit_count) commits, when O(since) is not in the checkout.
    type: bool
    default: false
  commit_count:
    description: How many commits to read without O(since) (or when it is missing).
    type: int
    default: 20
extends_documentation_fragment:
  - jiraops.integration.attributes.read_only
seealso:
  - module: jiraops.integration.build_info
  - module: jiraops.integration.deployment_info
"""

EXAMPLES = r"""
- name: Read the CI job's checkout
  jiraops.integration.git_info:
    path: "{{ lookup('ansible.builtin.env', 'CI_PROJECT_DIR') }}"
    since: "{{ lookup('ansible.builtin.env', 'CI_COMMIT_BEFORE_SHA') }}"
  register: checkout

- name: Issue keys of the branch and the commits read
  ansible.builtin.debug:
    msg: "{{ [checkout.branch, checkout.messages] | jiraops.integration.issue_keys }}"

- name: Fail unless every commit since the last release is there (not a shallow clone)
  jiraops.integration.git_info:
    path: /srv/checkout
    since: v1.4.0
    require_since: true
"""

RETURN = r"""
commit:
  description: The commit id of HEAD.
  returned: success
  type: str
  sample: 4f0c1a6e3b2d9c8f7a6b5c4d3e2f1a0b9c8d7e6f
branch:
  description: The branch HEAD is on; empty for a detached HEAD (as most CI systems check out).
  returned: success
  type: str
  sample: feature/JJ-12-pink-logo
repo_root:
  description: The checkout's top directory.
  returned: success
  type: str
  sample: /builds/jj/pink-logo
shallow:
  description: Whether the checkout is a shallow clone.
  returned: success
  type: bool
  sample: false
since_commit:
  description: The commit id O(since) names; empty when O(since) is empty or not in the checkout.
  returned: success
  type: str
  sample: 9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b
since_problem:
  description:
    - Why O(since) is not in the checkout, as C(<since> is not in <repo_root>) and the reason after a colon;
      empty when it is, or when O(since) is empty. The messages are then those of the last O(commit_count) commits.
  returned: success, and on failure when O(require_since) stopped the module
  type: str
  sample: ""
messages:
  description:
    - The messages (subject and body) of the commits since O(since), or of the last O(commit_count), newest first,
      each followed by a blank line.
  returned: success
  type: str
  sample: "JJ-2 make the logo pinker\n\nStart"
subject:
  description: The subject of HEAD's commit.
  returned: success
  type: str
  sample: JJ-2 make the logo pinker
remote_url:
  description:
    - The URL of the C(origin) remote with the user and password (or token) of C(https://user:token@host/...)
      removed; empty when there is no C(origin) remote URL. A local path is returned as configured.
  returned: success
  type: str
  sample: https://git.example.com/jj/pink-logo.git
reason:
  description:
    - On failure, what is wrong, V(missing) (O(path) does not exist), V(not_a_directory), V(not_a_checkout), V(no_commits),
      V(unreadable) (any other git error), V(since_missing) (with O(require_since)), V(bad_since) or V(bad_count).
  returned: failure
  type: str
  sample: not_a_checkout
git_said:
  description: On failure, the first line of git's own error message.
  returned: failure
  type: str
  sample: "fatal: not a git repository (or any of the parent directories): .git"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.jiraops.integration.plugins.module_utils._git import Checkout, GitError, read

# git's messages are matched to say what is wrong; they must not be translated.
GIT_ENV = {"LC_ALL": "C", "LANGUAGE": "C", "GIT_TERMINAL_PROMPT": "0"}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            since=dict(type="str", default=""),
            require_since=dict(type="bool", default=False),
            commit_count=dict(type="int", default=20),
        ),
        supports_check_mode=True,
    )
    git = module.get_bin_path("git")
    if not git:
        module.fail_json(msg="git_info needs git on the host that runs it; it is not on PATH", reason="unreadable",
                         git_said="")

    def run(argv):
        return module.run_command(argv, environ_update=GIT_ENV, errors="surrogate_then_replace")

    params = module.params
    try:
        facts = read(Checkout(run, git, params["path"]), since=params["since"] or "",
                     require_since=params["require_since"], count=params["commit_count"],
                     mask=module.no_log_values.add)
    except GitError as exc:
        module.fail_json(msg=str(exc), **exc.details())
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
