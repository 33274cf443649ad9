# Appended to the conf.py that antsibull-docs sphinx-init writes (scripts/docs-check.sh): build offline.
# References into the Ansible docs resolve through ansible_devel.inv, which docs-check.sh converts with
# sphobjinv from scripts/docs/ansible-devel-objects.txt (the labels our pages use, in Sphinx's plain
# inventory format). A label missing there makes sphinx-build fail with "undefined label": add a line.
# pylint: disable=invalid-name
intersphinx_mapping = {'ansible_devel': ('https://docs.ansible.com/projects/ansible/devel/', '../ansible_devel.inv')}
intersphinx_timeout = 1
# The linkcheck builder checks the links between our own pages; the web is out of reach, so links
# outside the site are listed in its output.txt but not fetched.
linkcheck_ignore = [r'https?://', r'mailto:']
