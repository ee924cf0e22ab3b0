"""Writes for medical certificates: issuing, correcting, revoking, and exporting the register
(IMC 2002 reg. 1.3.3).

Every certificate takes the next number of the clinic's series for the year it is issued in
(`MC/<year>/<serial>`, gap-free: the number is taken in the transaction that issues it). The
issue time is the server's clock, never an input. "Effective from" is a separate date that may
not precede the examination the certificate rests on (the linked visit's date, or the issue date
when no visit is linked), and may be at most MAX_DAYS_AHEAD days ahead.

A certificate is never edited. A correction is a new certificate with the next number that
supersedes the old one; a certificate issued in error is revoked with a reason. Both stay in the
register, and the public verification page says "superseded" or "revoked".

Only a doctor with a registration number in their doctor profile can issue a certificate (it
must be printed on it). A correction restates the examination, so only the doctor who issued
the certificate may correct it; that doctor or the clinic's owner may revoke it. Callers run
inside the clinic's scope.

Modules: `validation` (the fields a certificate needs and when it may take effect), `issuing`
(numbering, issuing, correcting, revoking) and `register` (the CSV export).
"""

from patients.services.certificates.issuing import (
    CANNOT_ISSUE,
    certificate_correct,
    certificate_issue,
    certificate_revoke,
    series_name,
)
from patients.services.certificates.register import certificate_register_export
from patients.services.certificates.validation import MAX_DAYS_AHEAD, MAX_REST_DAYS

__all__ = [
    "CANNOT_ISSUE",
    "MAX_DAYS_AHEAD",
    "MAX_REST_DAYS",
    "certificate_correct",
    "certificate_issue",
    "certificate_register_export",
    "certificate_revoke",
    "series_name",
]
