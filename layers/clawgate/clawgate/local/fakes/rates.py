"""Fake exchange-rate API in the open.er-api.com format the rate job reads: `GET /v6/latest/USD` →
`{"result": "success", "base_code": "USD", "time_last_update_unix": …, "rates": {"KZT": 512.3, …}}` (units of each
currency per US dollar). Set `rates` before a test; `fail_next` makes it fail."""

from __future__ import annotations

import time

from clawgate.local.fakes.base import FakeServer, RecordedRequest, Response


class FakeRates(FakeServer):
    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        super().__init__(port, host)
        self.rates: dict[str, float] = {"USD": 1.0}

    def _reset_state(self) -> None:
        self.rates = {"USD": 1.0}

    def handle(self, request: RecordedRequest) -> Response:
        if request.path.rstrip("/") != "/v6/latest/USD":
            return Response.json({"result": "error", "error-type": "unsupported-code"}, 404)
        return Response.json({"result": "success", "base_code": "USD", "time_last_update_unix": int(time.time()),
                              "rates": dict(self.rates)})  # fmt: skip
