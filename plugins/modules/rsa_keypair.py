#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: rsa_keypair
short_description: Generate the RSA key pair of a Jira OAuth 1.0a application link
version_added: 0.1.0
author: jiraops maintainers (@jiraops)
description:
  - Creates, keeps or removes the RSA private key (and its public key, optionally a self-signed certificate) that
    a Jira OAuth 1.0a application link uses. Jira stores the public key; the consumer signs requests with the
    private key. This replaces the four C(openssl) commands of Atlassian's OAuth tutorial with an idempotent task.
  - The private key is written as unencrypted PKCS#8 PEM (C(-----BEGIN PRIVATE KEY-----)) with mode O(mode), the
    public key as PEM SubjectPublicKeyInfo (C(-----BEGIN PUBLIC KEY-----)) with mode V(0644).
  - All files are written atomically (temporary file created with mode V(0600) in the same directory, then
    renamed). Inputs and target directories are validated before anything is written.
  - The private key is never returned. The public key is always returned, as PEM in RV(public_key) and as the
    one-line form Jira's application link form expects in RV(public_key_oneline).
  - The module never talks to Jira.
requirements:
  - cryptography >= 41.0 (Python library, on the host that writes the keys)
options:
  path:
    description:
      - Path of the private key file (unencrypted PKCS#8 PEM).
      - An existing RSA private key of O(size) bits is kept. An existing RSA key of a different size is replaced by
        a new key (with a warning, since the application link in Jira must then be updated with the new public
        key). An existing valid PKCS#1 (C(-----BEGIN RSA PRIVATE KEY-----)) key is rewritten as PKCS#8 without
        changing the key.
      - If the file exists but does not contain a usable RSA private key (not PEM, encrypted, not RSA), the module
        fails rather than overwrite it, because the file may be something else put there by mistake. Set
        O(force=true) to replace it.
      - A symbolic link at O(path) is never written through (the module creates no links, so it cannot know where
        a link points or who made it), so the task fails naming the option, in check mode too, unless O(force=true),
        which writes the link's target. A link whose file needs no change is only read.
    type: path
    required: true
  public_key_path:
    description:
      - Path of the public key file (PEM SubjectPublicKeyInfo), the file to paste into Jira's application link.
      - Defaults to O(path) with C(.pub) appended.
      - The file is rewritten (from the private key) whenever its content is not exactly the public key of the
        private key, for example after it was edited or when it belongs to another key. An existing file keeps its
        permissions (a V(0600) public key stays V(0600)); a newly written one gets mode V(0644).
      - A symbolic link here is treated as for O(path), that is refused when the file would be written, unless O(force=true).
    type: path
  certificate_path:
    description:
      - If set, also maintain a self-signed X.509 certificate (PEM) for the key at this path, for OAuth consumers
        that load the key pair through a certificate.
      - The certificate is regenerated when it cannot be parsed, is for a different key, is not self-signed by the
        key, has a subject common name other than O(common_name), or has expired. Changing O(days) alone does not
        regenerate a still valid certificate.
      - An existing certificate keeps its permissions; a newly written one gets mode V(0644).
      - A symbolic link here is treated as for O(path), that is refused when the file would be written, unless O(force=true).
    type: path
  common_name:
    description:
      - Subject (and issuer) common name of the certificate. Only used with O(certificate_path).
      - At most 64 characters (the X.509 upper bound for a common name, RFC 5280). Checked before anything is
        written, also when O(certificate_path) is not set.
    type: str
    default: jiraops
  days:
    description:
      - Validity of a newly generated certificate, in days from now. Only used with O(certificate_path).
      - From V(1) up to the number of days left until 9999-12-31, the latest date an X.509 certificate can express
        (about 2,900,000). Checked before anything is written, also when O(certificate_path) is not set.
    type: int
    default: 365
  size:
    description:
      - RSA modulus length in bits.
      - Values below V(2048) are refused. NIST SP 800-131A disallows shorter RSA keys for signatures, and Jira
        application links accept keys of 2048 bits and more. Values above V(16384) are refused too.
    type: int
    default: 3072
  state:
    description:
      - V(present) makes sure the key pair (and certificate, if O(certificate_path) is set) exists.
      - V(absent) removes O(path), O(public_key_path) and O(certificate_path) (when set). The task only reports a
        change if one of them existed.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - Always generate a new private key (and thus a new public key and certificate), even if a valid one exists.
      - Also allows replacing a file at O(path) that does not contain a usable RSA private key, and writing
        through symbolic links at O(path), O(public_key_path) and O(certificate_path) (their targets are written).
      - The task then always reports a change.
    type: bool
    default: false
  mode:
    description:
      - Permissions of the private key file, as an octal string like V(0600) (quote it in YAML so it stays a string).
        Symbolic modes and special bits (setuid, setgid, sticky) are not supported.
      - An existing key file with other permissions gets its permissions fixed (reported as a change).
      - A warning is emitted when the mode gives group or others access to the private key.
      - The public key and certificate files are not affected; they are written with mode V(0644).
    type: raw
    default: '0600'
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    support: full
    description:
      - Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
      - The diff shows parsed facts (presence, size, SHA-256 fingerprint, format, mode, whether the public key and
        certificate match the private key), never key bytes.
  platform:
    support: full
    platforms: posix
    description: Target OS/families that can be operated against.
notes:
  - Fingerprints are the SHA-256 digest of the DER SubjectPublicKeyInfo as lowercase colon-separated hex pairs,
    the same value as C(openssl pkey -pubin -in KEY.pub -outform DER | openssl dgst -sha256 -c) prints.
  - All options are checked, and every file's content is built, before the first file is written, in check mode
    too. If writing fails midway (for example the disk fills up after the private key was replaced), every file is
    still either its old or its complete new version, the failure lists RV(written) and reports a change, and
    running the task again completes the pair.
seealso:
  - name: Atlassian OAuth 1.0a for Jira REST APIs
    description: The tutorial whose openssl commands this module replaces.
    link: https://developer.atlassian.com/server/jira/platform/oauth/
"""

EXAMPLES = r"""
- name: Create the key pair for the Jira application link
  jiraops.integration.rsa_keypair:
    path: /etc/jiraops/jira_privatekey.pem
  register: jira_key

- name: Show what to paste into the application link's "Public key" field
  ansible.builtin.debug:
    msg: "{{ jira_key.public_key_oneline }}"

- name: Key pair with explicit public key path and a self-signed certificate
  jiraops.integration.rsa_keypair:
    path: /etc/jiraops/jira_privatekey.pem
    public_key_path: /etc/jiraops/jira_publickey.pem
    certificate_path: /etc/jiraops/jira_certificate.pem
    common_name: ci.example.com
    days: 730
    size: 4096

- name: Rotate the key (the public key in Jira must be updated afterwards)
  jiraops.integration.rsa_keypair:
    path: /etc/jiraops/jira_privatekey.pem
    force: true

- name: Remove the key pair
  jiraops.integration.rsa_keypair:
    path: /etc/jiraops/jira_privatekey.pem
    state: absent
"""

RETURN = r"""
path:
  description: Path of the private key file. The private key itself is never returned.
  returned: always
  type: str
  sample: /etc/jiraops/jira_privatekey.pem
public_key_path:
  description: Path of the public key file (O(public_key_path) or its default).
  returned: always
  type: str
  sample: /etc/jiraops/jira_privatekey.pem.pub
certificate_path:
  description: Path of the self-signed certificate.
  returned: when O(certificate_path) is set
  type: str
  sample: /etc/jiraops/jira_certificate.pem
public_key:
  description:
    - The public key as PEM SubjectPublicKeyInfo.
    - V(null) in check mode when a new key would be generated.
  returned: when O(state=present)
  type: str
  sample: "-----BEGIN PUBLIC KEY-----\nMIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA...\n-----END PUBLIC KEY-----\n"
public_key_oneline:
  description:
    - The base64 body of RV(public_key) on one line, without header and footer; the form Jira's application link
      expects in its "Public key" field.
    - V(null) in check mode when a new key would be generated.
  returned: when O(state=present)
  type: str
  sample: MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA...
fingerprint:
  description:
    - SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex pairs separated by colons.
    - V(null) in check mode when a new key would be generated.
  returned: when O(state=present)
  type: str
  sample: "3f:1c:9a:...:e2"
written:
  description:
    - Paths of the files whose content was written, in the order they were written; in check mode, the files that
      would be written. A mode fixed on an existing private key is a change but not a write.
    - Also returned by a task that fails after some files were written.
  returned: always
  type: list
  elements: str
  sample: [/etc/jiraops/jira_privatekey.pem, /etc/jiraops/jira_privatekey.pem.pub]
size:
  description: Size of the key in bits.
  returned: when O(state=present)
  type: int
  sample: 3072
"""

import os
import re
import stat

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.jiraops.integration.plugins.module_utils import _io
from ansible_collections.jiraops.integration.plugins.module_utils import _keys
from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError

PUBLIC_FILE_MODE = 0o644


class _KeyPairModule(AnsibleModule):
    def add_path_info(self, kwargs):
        """Return results as built: AnsibleModule would add stat() facts of ``path``, overwriting the key ``size``
        with the file size and adding ``mode``/``state``/``owner`` keys this module does not document."""
        return kwargs


_MODE_RE = re.compile(r'^(?:0o?)?([0-7]{3})$')


def _parse_mode(module, value):
    """Octal permission bits from ``mode``; symbolic modes are refused rather than guessed."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML reads an unquoted 0600 as 384 (fine) but 600 as decimal 600 (= 0o1130): refuse the latter.
        if not 0 <= value <= 0o777:
            module.fail_json(msg="mode: %r is not a permission mode; quote octal modes, e.g. '0600'" % (value,))
        mode = value
    else:
        match = _MODE_RE.match(str(value).strip())
        if not match:
            module.fail_json(msg="mode: expected an octal mode such as '0600', got %r" % (value,))
        mode = int(match.group(1), 8)
    if mode & 0o077:
        module.warn('mode %04o gives group or others access to the private key at %s' % (mode, module.params['path']))
    return mode


def _check_path(module, option, path, need_parent):
    """Refuse a path that can never be a key file, before anything is written."""
    if os.path.isdir(path):
        module.fail_json(msg='%s: %s is a directory, expected a file path' % (option, path))
    if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):
        module.fail_json(msg='%s: %s exists but is not a regular file' % (option, path))
    parent = os.path.dirname(os.path.realpath(path))
    if need_parent and not os.path.isdir(parent):
        module.fail_json(msg='%s: parent directory %s does not exist' % (option, parent))


def _check_writable(module, option, path):
    parent = os.path.dirname(os.path.realpath(path))
    if not os.access(parent, os.W_OK | os.X_OK):
        module.fail_json(msg='%s: parent directory %s is not writable' % (option, parent))


def _check_not_symlink(module, option, path):
    """A link the module did not create may point anywhere (another user's file, a system file): never write
    through it unless ``force`` says the user means it."""
    if os.path.islink(path) and not module.params['force']:
        module.fail_json(msg='%s: %s is a symbolic link (to %s); refusing to write through a link this module did '
                             'not create. Point %s at the real file, remove the link, or set force=true'
                             % (option, path, os.readlink(path), option))


def _read(module, option, path):
    try:
        return _io.read_regular_file(path, option, missing_ok=True)
    except OptionError as exc:
        module.fail_json(msg=str(exc))


def _read_quiet(path):
    try:
        return _io.read_regular_file(path, 'path', missing_ok=True)
    except OptionError:
        return None


def _write_all(module, writes):
    """Write every (option, path, data, mode) in order; a failure names what was already written."""
    done = []
    for option, path, data, mode in writes:
        try:
            _io.write_file_atomic(module, path, data, mode=mode, follow_symlinks=module.params['force'])
        except OSError as exc:
            msg = '%s: cannot write %s: %s' % (option, path, to_native(exc.strerror or exc))
            if done:
                msg += (' (already written: %s; running the task again completes the key pair)'
                        % ', '.join(done))
            module.fail_json(msg=msg, changed=bool(done), written=done)
        done.append(path)
    return done


def _mode_str(mode):
    return None if mode is None else '%04o' % mode


def _observe(paths, common_name):
    """Parsed facts about the files on disk, for the diff; never key bytes."""
    facts = {}
    data = _read_quiet(paths['path'])
    key = None
    priv = {'present': data is not None}
    if data is not None:
        priv['mode'] = _mode_str(_io.file_mode(paths['path']))
        priv['format'] = _keys.private_key_format(data) or 'unknown'
        try:
            key = _keys.load_private_key(data)
        except _keys.KeyMaterialError:
            priv['valid'] = False
        else:
            priv.update(valid=True, size=key.key_size, fingerprint=_keys.fingerprint(key))
    facts['path'] = priv

    def _other(option, check):
        content = _read_quiet(paths[option])
        entry = {'present': content is not None}
        if content is not None:
            entry['matches_private_key'] = key is not None and check(key, content)
        facts[option] = entry

    _other('public_key_path', _keys.public_key_matches)
    if paths.get('certificate_path'):
        _other('certificate_path', lambda k, c: _keys.certificate_matches(k, c, common_name=common_name))
    return facts


def run_absent(module, paths):
    existing = [(option, path) for option, path in paths.items() if path and os.path.lexists(path)]
    for option, path in existing:
        if os.path.isdir(path):
            module.fail_json(msg='%s: %s is a directory, expected a file path' % (option, path))
    before = _observe(paths, module.params['common_name']) if module._diff else None
    if existing and not module.check_mode:
        for option, path in existing:
            try:
                _io.remove_file(path)
            except OSError as exc:
                module.fail_json(msg='%s: cannot remove %s: %s' % (option, path, to_native(exc.strerror or exc)))
    result = dict(changed=bool(existing), written=[], **paths)
    if module._diff:
        result['diff'] = dict(before=before, after={option: {'present': False} for option in paths})
    return result


def run_present(module, paths, mode):
    params = module.params
    size = params['size']
    common_name = params['common_name']
    before = _observe(paths, common_name) if module._diff else None

    # 1. Decide about the private key.
    priv_data = _read(module, 'path', paths['path'])
    key = None
    action = 'generate'
    if priv_data is not None:
        try:
            key = _keys.load_private_key(priv_data)
        except _keys.KeyMaterialError as exc:
            if not params['force']:
                module.fail_json(msg='path: %s exists but is not a usable RSA private key: %s. Refusing to overwrite '
                                     'it; set force=true to replace it with a new key.' % (paths['path'], exc))
        else:
            if params['force']:
                action = 'generate'
            elif key.key_size != size:
                module.warn('The private key at %s has %d bits instead of %d; a new key is generated. Update the '
                            'public key of the Jira application link.' % (paths['path'], key.key_size, size))
                action = 'generate'
            elif _keys.private_key_format(priv_data) != 'pkcs8':
                action = 'convert'  # same key, rewritten as PKCS#8
            else:
                action = 'keep'
    if action == 'generate':
        key = None  # the old key, if any, is discarded; the new one is only generated outside check mode
    fix_mode = action == 'keep' and _io.file_mode(paths['path']) != mode

    # 2. Decide about the derived files (everything is rewritten once the key is new).
    write_public = True
    write_cert = bool(paths.get('certificate_path'))
    pub_data = _read(module, 'public_key_path', paths['public_key_path'])
    cert_data = _read(module, 'certificate_path', paths['certificate_path']) if write_cert else None
    if key is not None:
        write_public = pub_data != _keys.public_key_pem(key).encode('ascii')
        if write_cert:
            write_cert = not _keys.certificate_matches(key, cert_data, common_name=common_name)

    # 3. Everything that will be written must be writable and not a foreign symlink, before the first byte is written.
    wanted = (('path', action != 'keep' or fix_mode), ('public_key_path', write_public),
              ('certificate_path', write_cert))
    needed = [option for option, needed in wanted if needed]
    for option in needed:
        _check_not_symlink(module, option, paths[option])
        if option != 'path' or action != 'keep':
            _check_writable(module, option, paths[option])
    changed = bool(needed)
    written = [paths[option] for option in needed if option != 'path' or action != 'keep']

    if not module.check_mode:
        # 4. Build every file's content first: nothing is written when any of it cannot be built.
        if action == 'generate':
            key = _keys.generate_private_key(size)
        writes = []
        if action != 'keep':
            writes.append(('path', paths['path'], _keys.private_key_pem(key), mode))
        if write_public:
            writes.append(('public_key_path', paths['public_key_path'], _keys.public_key_pem(key).encode('ascii'),
                           _kept_mode(paths['public_key_path'])))
        if write_cert:
            try:
                cert = _keys.generate_self_signed_certificate(key, common_name, params['days'])
            except _keys.KeyMaterialError as exc:
                module.fail_json(msg='certificate_path: %s' % exc)
            writes.append(('certificate_path', paths['certificate_path'], cert.encode('ascii'),
                           _kept_mode(paths['certificate_path'])))
        written = _write_all(module, writes)
        if fix_mode:
            try:
                _io.ensure_mode(paths['path'], mode)
            except OSError as exc:
                module.fail_json(msg='path: cannot change the mode of %s: %s'
                                     % (paths['path'], to_native(exc.strerror or exc)), changed=bool(written),
                                 written=written)

    result = dict(changed=changed, written=written, size=size, public_key=None, public_key_oneline=None,
                  fingerprint=None, **paths)
    if key is not None:
        result.update(size=key.key_size, public_key=_keys.public_key_pem(key),
                      public_key_oneline=_keys.public_key_oneline(key), fingerprint=_keys.fingerprint(key))
    if module._diff:
        if module.check_mode:
            after = _predict(paths, key, size, mode)
        else:
            after = _observe(paths, common_name)
        result['diff'] = dict(before=before, after=after)
    return result


def _kept_mode(path):
    """An existing public key or certificate keeps its permissions; a new one is world-readable (it is public)."""
    current = _io.file_mode(path)
    return PUBLIC_FILE_MODE if current is None else current


def _predict(paths, key, size, mode):
    """Facts the files would have after a real run (check mode); a key not generated yet has no fingerprint."""
    after = {
        'path': {'present': True, 'mode': _mode_str(mode), 'format': 'pkcs8', 'valid': True, 'size': size,
                 'fingerprint': _keys.fingerprint(key) if key is not None else None},
        'public_key_path': {'present': True, 'matches_private_key': True},
    }
    if paths.get('certificate_path'):
        after['certificate_path'] = {'present': True, 'matches_private_key': True}
    return after


def main():
    module = _KeyPairModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            public_key_path=dict(type='path'),
            certificate_path=dict(type='path'),
            common_name=dict(type='str', default='jiraops'),
            days=dict(type='int', default=365),
            size=dict(type='int', default=_keys.DEFAULT_KEY_SIZE),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            force=dict(type='bool', default=False),
            mode=dict(type='raw', default='0600'),
        ),
        supports_check_mode=True,
    )
    if not _keys.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=_keys.CRYPTOGRAPHY_IMPORT_ERROR)

    params = module.params
    paths = dict(path=params['path'], public_key_path=params['public_key_path'] or params['path'] + '.pub')
    if params['certificate_path']:
        paths['certificate_path'] = params['certificate_path']
    for option, path in paths.items():
        _check_path(module, option, path, need_parent=params['state'] == 'present')
    real = {}
    for option, path in paths.items():
        other = real.setdefault(os.path.realpath(path), option)
        if other != option:
            module.fail_json(msg='%s: must not be the same file as %s (%s)' % (option, other, path))

    if params['state'] == 'absent':
        module.exit_json(**run_absent(module, paths))

    try:
        _keys.check_key_size(params['size'])
    except _keys.KeyMaterialError as exc:
        module.fail_json(msg='size: %s' % exc)
    # Checked even without certificate_path: every option is checked before anything is written.
    for option, check in (('common_name', _keys.check_common_name), ('days', _keys.check_days)):
        try:
            check(params[option])
        except _keys.KeyMaterialError as exc:
            module.fail_json(msg='%s: %s' % (option, exc))
    mode = _parse_mode(module, params['mode'])
    module.exit_json(**run_present(module, paths, mode))


if __name__ == '__main__':
    main()
