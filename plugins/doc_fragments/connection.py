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
    type: str
    required: true
  username:
    description:
      - User for HTTP Basic authentication (a local or LDAP user of Unified Manager).
      - An Operator may only read; starting operations needs a Storage or Application Administrator.
      - If not set, the value of the E(UM_USERNAME) environment variable is used.
    type: str
    required: true
  password:
    description:
      - Password of O(username). It is never shown in output, warnings or errors.
      - If not set, the value of the E(UM_PASSWORD) environment variable is used.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate.
      - Keep this on. If Unified Manager uses a self-signed or private-CA certificate, give the CA in O(ca_path).
      - If not set, the value of the E(UM_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  http_port:
    description:
      - TCP port of the Unified Manager REST API. Defaults to 443.
      - If not set, the value of the E(UM_HTTP_PORT) environment variable is used.
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
      - If not set, the value of the E(UM_REQUEST_TIMEOUT) environment variable is used.
    type: float
    default: 30
requirements:
  - "requests >= 2.30 and urllib3 >= 2 (Python libraries) on the host that runs the module, usually the controller"
notes:
  - "The modules talk to Unified Manager from the host they run on: run them with C(hosts: localhost)
    or C(delegate_to: localhost)."
  - Use C(module_defaults) with the group C(group/aiqum.jobs.um) to set connection options once per play.
"""
