"""DynamoDB through PynamoDB: one module per aggregate, each owning its conditional writes.

``client`` (one shared client, binding models to tables) and ``writes`` (the conditional-write
helpers) are used by every repository; ``tables`` holds the three tables' base items, their
indexes and every key; ``reader`` is the status API's read side.
"""
