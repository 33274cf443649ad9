# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options, mirrored by CONNECTION_ARGSPEC in plugins/module_utils/_module.py."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  hostname:
    description:
      - Host name or IP address of the Unified Manager server, without a scheme, path or port.
      - If not set, the value of the E(UM_HOSTNAME) environment variable is used.
      - Required unless E(UM_HOSTNAME) is set.
    type: str
  username:
    description:
      - User for HTTP Basic authentication (a local or LDAP user of Unified Manager).
      - An Operator may only read; starting operations needs a Storage or Application Administrator.
      - If not set, the value of the E(UM_USERNAME) environment variable is used.
      - Required unless E(UM_USERNAME) is set.
    type: str
    aliases: [user]
  password:
    description:
      - Password of O(username). It is never shown in output, warnings or errors.
      - If not set, the value of the E(UM_PASSWORD) environment variable is used.
      - Required unless E(UM_PASSWORD) is set.
    type: str
    aliases: [pass]
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate.
      - Keep this on. If Unified Manager uses a self-signed or private-CA certificate, give the CA in O(ca_path).
      - If not set, the value of the E(UM_VALIDATE_CERTS) environment variable is used, else V(true).
    type: bool
  http_port:
    description:
      - TCP port of the Unified Manager REST API, from V(1) to V(65535).
      - If not set, the value of the E(UM_HTTP_PORT) environment variable is used, else V(443).
    type: int
  ca_path:
    description:
      - PEM file with the CA certificate(s) that signed the server's certificate.
      - It replaces the default CA bundle (that of the Python C(certifi) package, or the file named by E(REQUESTS_CA_BUNDLE)).
      - If not set, the value of the E(UM_CA_PATH) environment variable is used.
    type: path
  request_timeout:
    description:
      - Seconds to wait for the connection and for each answer of a single request.
      - Each try of a request gets this whole time (connect, headers and body); a retry gets it again.
      - From V(0.1) to V(3600). If not set, the value of the E(UM_REQUEST_TIMEOUT) environment variable is used, else
        V(30).
    type: float
  feature_flags:
    description:
      - Switches for diagnosis, as in C(netapp.ontap) and C(netapp.um_info). Flags this collection does not know are
        ignored, so the same O(feature_flags) can be set in C(module_defaults) for both collections.
      - C(trace_apis) (boolean, default V(false)) appends every HTTP exchange with Unified Manager (method, URL,
        status, time, headers, body) to a log file on the host that runs the module. The C(Authorization) and cookie
        headers, the password (in any form a server may echo it) and body and query values under secret-looking
        names are written as C(********), before any body is cut to C(trace_body_length).
      - C(trace_file) (path, default C(/tmp/aiqum_apis.log)) is that log file, created readable by its owner only. It
        is never opened through a symbolic link, and a file that belongs to another user or that others may read is
        refused.
      - C(trace_body_length) (integer, default V(2000)) is how many characters of each body are written.
    type: dict
requirements:
  - "requests >= 2.30 and urllib3 >= 2 (Python libraries) on the host that runs the module, usually the controller"
notes:
  - "The modules talk to Unified Manager from the host they run on: run them with C(hosts: localhost)
    or C(delegate_to: localhost)."
  - Use C(module_defaults) with the group C(group/aiqum.jobs.um) to set connection options once per play.
"""
