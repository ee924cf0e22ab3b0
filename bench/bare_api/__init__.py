"""A minimal DRF app doing what Vaidya's patient API does, for `bench/api_ratio_bench.py`.

Plain Django REST framework as its tutorial would write it: an API key looked up by SHA-256
digest (with its clinic), patients filtered by that clinic, a cursor page of 20, a name search,
a record read and a create with a per-clinic number. No tenancy scopes, roles or audit trail:
it is the floor Vaidya's API is compared with, not an example to follow.
"""
