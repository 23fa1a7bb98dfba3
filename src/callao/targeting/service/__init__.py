"""The targeting service: the port control unit's daily selection, outcomes and audit trail.

:mod:`~.db` (engines, migrations) → :mod:`~.models` (tables) → :mod:`~.auth` (passwords, tokens),
:mod:`~.audit` (hash chain), :mod:`~.workflow` (uploads, models, lists, figures) →
:mod:`~.app` (the FastAPI app). Started by ``callao targeting serve``.
"""
