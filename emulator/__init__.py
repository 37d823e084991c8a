"""A local stand-in for Alibaba Cloud Dyplsapi (2017-05-25) that the official SDK cannot tell apart.

The constants live here, with no heavy imports, because the gateway's sandbox mode imports them
to point the real SDK at the emulator.
"""

SANDBOX_ACCESS_KEY_ID = "sandbox-access-key-id"
SANDBOX_ACCESS_KEY_SECRET = "sandbox-access-key-secret"
DEFAULT_POOL_KEY = "FC100000000000001"

__all__ = ["DEFAULT_POOL_KEY", "SANDBOX_ACCESS_KEY_ID", "SANDBOX_ACCESS_KEY_SECRET"]
