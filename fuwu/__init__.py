"""Fuwu: the shell that every domain stands in."""

import os

# Piccolo finds its engine through this module; set before any table is imported.
os.environ.setdefault("PICCOLO_CONF", "fuwu.piccolo_conf")
