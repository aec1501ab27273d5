"""The young person's consent service (issue 14): a Django project and app in one package.

``settings`` reads the environment and the Ennakko configuration; ``identity`` checks
identity codes (no Django); ``auth`` decides who may log in through the city's OpenID
provider; ``models`` keeps persons with their identity code encrypted; ``views`` and
``templates/portal/`` are the pages (fi, sv, en in ``locale/``); ``testop/`` is the local
OpenID provider of the tests and the demo. Started with ``ennakko portal``.
"""
