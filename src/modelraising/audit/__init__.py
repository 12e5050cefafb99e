"""Data-quality audit of raised corpora: ``modelraising audit DIR`` (see :mod:`modelraising.audit.run`)."""

from modelraising.audit.run import AuditError, AuditThresholds, audit_dir, check

__all__ = ["AuditError", "AuditThresholds", "audit_dir", "check"]
