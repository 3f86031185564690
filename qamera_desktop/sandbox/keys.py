"""The sandbox's API keys. Not secrets: they open the sandbox only. A module of their own, so that
the app reads the demo key at start without the sandbox's configuration or its server."""

DEMO_API_KEY = "mk_live_demo.sandbox"
"""The sandbox's own demo key (demo catalogue)."""

EXAMPLE_API_KEY = "mk_live_abc123.secret456"
"""The example key of Qamera's API documentation; the sandbox accepts it (small catalogue)."""

READONLY_API_KEY = "mk_live_readonly.sandbox"
"""A demo-account key without the `content.register` scope: POST register-ideas answers 403."""
