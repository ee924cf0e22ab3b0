"""Prescribing safety, as pure functions: the drug classes (WHO ATC), the starter formulary
shipped with Vaidya, reading allergies typed as free text, and the checks every medicine goes
through before it is added to a prescription (`checks.check_item`).

Nothing here touches the database: the services gather the facts and call these functions.
"""
