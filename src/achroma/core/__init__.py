"""The data every layer shares: collection and result models, record batches, defaults.

Imports nothing from achroma but `errors`; `api/`, `backend/`, `engine/` and `http/` import
from here.
"""
