"""The offline demo: a bundled example newsletter served on 127.0.0.1 (see ``site.py``)."""
