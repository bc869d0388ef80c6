"""Storage of the items package: the only code that queries items/records.py.

One package, split by concept; callers use `from items import store` and `store.<function>`.
"""
from items.store.core import *  # noqa: F401,F403
from items.store.directory import *  # noqa: F401,F403
from items.store.catalogue import *  # noqa: F401,F403
from items.store.local import *  # noqa: F401,F403
from items.store.stats import *  # noqa: F401,F403
