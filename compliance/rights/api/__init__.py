"""Data-rights requests in the API: `/api/v1/rights-requests/` (list, record, read, move)."""
