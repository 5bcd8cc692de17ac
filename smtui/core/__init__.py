"""The headless core: domain objects, the step graph, the AWS client, the monitor and actions.

Nothing here may import Textual (tests/test_layering.py enforces it).
"""
