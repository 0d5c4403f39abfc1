"""The data model every stage shares: the typed records (records.py), the failure classes
(errors.py) and every id and key (ids.py), each defined once."""
