"""The operator area: server-rendered pages for the people who run the registry.

Persian (RTL) under ``/operator/``, English under ``/en/operator/``; the same views with a
locale.  Every page needs a signed-in web session (`auth`), every change goes through
`RegistryOps` (which authorizes and audits it) and every form carries a CSRF token (`forms`).
"""
