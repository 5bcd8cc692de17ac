"""The protocol layer: aiohttp on `POST /`, AWS JSON 1.1 routed by `X-Amz-Target`, errors as the service
encodes them, injected faults, and the `/_emulator/*` control endpoints."""
