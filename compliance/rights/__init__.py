"""The staff's rights desk: data-rights requests (access, correction, erasure, portability,
nomination, grievance), their reference numbers, due dates, owners and timeline; corrections
approved field by field; nominations and the evidence a nominee shows.

Modules: `models` (tables, imported by `compliance.models`), `rules` (pure: transitions, due
dates, which fields a correction may touch), `services` (writes), `selectors` (reads), `desk`
(the `RightsDesk` WhatsApp requests arrive at), `alerts` (the hook a higher app fills to alert
an owner), `views`, `forms`, `api`.
"""
