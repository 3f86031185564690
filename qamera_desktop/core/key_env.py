"""The name of the environment variable that carries an API key, for scripting.

Its own tiny module because several layers need only the name: the command line and the launch
options document it, the key store reads it (it overrides every stored key), the controller asks
whether it is set, and the thumbnail worker is started without it. None of them should import the
key store (and its keyring) for a string.
"""

from __future__ import annotations

from typing import Final

API_KEY_ENV: Final = "QAMERA_API_KEY"
