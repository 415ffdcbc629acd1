"""The one HTTP client for HubSpot: base URL, auth per endpoint family, timeouts, the
per-portal limiter, retries with backoff, and errors that never carry a secret."""
from __future__ import annotations

import collections
import logging
import random
import threading
import time
from collections.abc import Callable

import requests

from oembed_server.hubspot import response_shapes
from oembed_server.hubspot.api_call import ApiCall, ApiResponse, Auth
from oembed_server.hubspot.api_error import HubSpotError, install_log_redaction, redact
from oembed_server.hubspot.app_token import AppToken
from oembed_server.hubspot.call_observer import CallObservation, CallObserver, operation_of
from oembed_server.hubspot.client_config import HubSpotConfig, HubSpotConfigError
from oembed_server.hubspot.rate_limiter import RateLimiter, RequestBudget
from oembed_server.hubspot.retry_policy import RETRYABLE_STATUSES, RetryPolicy, request_never_sent
from oembed_server.hubspot.token_refresh import TokenManager, TokenStore

log = logging.getLogger(__name__)


class HubSpotClient:
    def __init__(self, config: HubSpotConfig, *, session: requests.Session | None = None,
                 limiter: RequestBudget | None = None, token_store: TokenStore | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 rng: random.Random | None = None, observer: CallObserver | None = None):
        self.config = config
        # Told about every attempt (metrics, the correlation id a job's log line carries).
        self.observer = observer
        install_log_redaction()
        self.session = session or requests.Session()
        self.limiter: RequestBudget = limiter or RateLimiter(config.rate_limit, config.rate_interval_s, sleep=sleep)
        self.policy = RetryPolicy(config.max_retries, config.backoff_base_s, config.backoff_cap_s,
                                  config.max_retry_wait_s)
        self.tokens = TokenManager(config.access_token, config.refresh_token, config.client_id,
                                   config.client_secret, config.token_refresh_margin_s, token_store, clock)
        self.app_token = AppToken(config.client_id, config.client_secret, config.journal_scopes,
                                  config.token_refresh_margin_s, clock)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._count_lock = threading.Lock()
        # The latest attempts (method, path, status; None when no answer came), for diagnosis;
        # bounded because a long-lived process would otherwise keep every request it ever sent.
        self.sent: collections.deque[tuple[str, str, int | None]] = collections.deque(maxlen=1000)
        # Credentials learnt after construction (an install's fresh tokens), redacted like the rest.
        self._learnt_secrets: list[str] = []

    # --- public -----------------------------------------------------------------------
    def execute(self, call: ApiCall, *, allow: tuple[int, ...] = ()) -> ApiResponse:
        """Send ``call``; statuses in ``allow`` (e.g. 404 for "does it exist?") are returned
        instead of raised."""
        attempt = 0
        refreshed = False
        while True:
            headers, params, token = self._credentials(call)
            key = self._budget_key(call.auth)
            if key:
                self.limiter.acquire(key)
            started = time.monotonic()
            try:
                response = self.session.request(
                    call.method, (call.base_url or self.config.api_base) + call.path, params=params, json=call.json,
                    data=call.form, files=call.files, headers=headers,
                    timeout=(self.config.connect_timeout_s, self.config.read_timeout_s))
            except requests.RequestException as exc:
                never_sent = request_never_sent(exc)
                self._record(call, None)
                retrying = (call.idempotent or never_sent) and attempt < self.policy.max_retries
                self._observe(call, None, started, retrying, None)
                if retrying:
                    delay = self.policy.backoff(attempt, self._rng)
                    log.info("%s %s failed to connect (%s); retry %d in %.2fs", call.method, call.shown_path,
                             type(exc).__name__, attempt + 1, delay)
                    self._sleep(delay)
                    attempt += 1
                    continue
                raise self._connection_error(call, exc, never_sent) from None
            log.debug("%s %s -> %d (%.0f ms)", call.method, call.shown_path, response.status_code,
                      (time.monotonic() - started) * 1000)
            self._record(call, response.status_code)
            if key:
                self.limiter.observe(key, response.headers)

            status = response.status_code
            # token: the OAuth access token this attempt sent (None for the other kinds of auth).
            if status == 401 and call.auth is Auth.OAUTH and token is not None and not refreshed \
                    and self.tokens.can_refresh:
                refreshed = True
                self._observe(call, status, started, True, _correlation_id(response))
                self.tokens.refresh_after_rejection(token, self._post_form)
                continue
            if status == 401 and call.auth is Auth.APP and token is not None and not refreshed:
                refreshed = True
                self._observe(call, status, started, True, _correlation_id(response))
                self.app_token.after_rejection(token, self._post_form)
                continue
            wait = None
            if status in RETRYABLE_STATUSES and (call.idempotent or status == 429) \
                    and attempt < self.policy.max_retries:
                # A 429 is HubSpot refusing before doing anything, so even a create may go again.
                wait = self.policy.wait_for(attempt, status, response.headers, self._rng)
            if self.observer is not None:
                self._observe(call, status, started, wait is not None, _correlation_id(response))
            if wait is not None:
                log.info("%s %s -> %d; retry %d in %.2fs", call.method, call.shown_path, status, attempt + 1, wait)
                if status == 429 and key:
                    # Held in the limiter, so every thread on this portal waits, not just this one.
                    self.limiter.block(key, wait)
                else:
                    self._sleep(wait)
                attempt += 1
                continue
            if status >= 400 and status not in allow:
                error = HubSpotError.from_response(response, self._secrets(), call.method, call.shown_path)
                if call.auth is Auth.DEVELOPER and status in (401, 403):
                    # Say which credential HubSpot refused, since either of two may be in use.
                    error.message += f" (sent {self.config.developer_credential})"
                raise error
            return ApiResponse(status, response.text if call.raw_text else _body(response), dict(response.headers))

    # --- internals ---------------------------------------------------------------------
    def _credentials(self, call: ApiCall) -> tuple[dict, dict, str | None]:
        params = dict(call.params or {})
        if call.auth is Auth.DEVELOPER:
            return self._developer_credentials(call, params)
        if call.auth is Auth.OAUTH:
            token = self.tokens.access_token(self._post_form)
            return {"Authorization": f"Bearer {token}"}, params, token
        if call.auth is Auth.APP:
            token = self.app_token.access_token(self._post_form)
            return {"Authorization": f"Bearer {token}"}, params, token
        return {}, params, None

    def _developer_credentials(self, call: ApiCall, params: dict) -> tuple[dict, dict, None]:
        """App-level calls: the developer account's token as Bearer (what the published specs
        name), else its API key as hapikey. A portal's token is refused there, so never sent."""
        credential = self.config.developer_credential
        if credential == "HUBSPOT_DEVELOPER_ACCESS_TOKEN":
            return {"Authorization": f"Bearer {self.config.developer_access_token}"}, params, None
        if credential == "HUBSPOT_DEVELOPER_API_KEY":
            params["hapikey"] = self.config.developer_api_key
            return {}, params, None
        raise HubSpotConfigError(f"{call.method} {call.path} is an app-level call and needs developer account "
                                 "credentials: set HUBSPOT_DEVELOPER_ACCESS_TOKEN (a developer account token with "
                                 "developers-read/developers-write) or HUBSPOT_DEVELOPER_API_KEY")

    def _budget_key(self, auth: Auth) -> str | None:
        if auth in (Auth.DEVELOPER, Auth.APP):
            return f"app:{self.config.app_id}"
        if auth is Auth.OAUTH:
            return f"portal:{self.config.portal_id}"
        return None

    def _post_form(self, path: str, form: dict) -> dict:
        # Repeating a refresh only mints another token, so the call counts as idempotent.
        call = ApiCall("POST", path, Auth.NONE, idempotent=True, form=form)
        answer = self.execute(call)
        return response_shapes.check(answer.body, response_shapes.TOKEN, call, answer.status)

    def forget_later(self, *secrets: str) -> None:
        """Redact these from every error and log line from now on (they are credentials
        this client did not start with)."""
        self._learnt_secrets.extend(s for s in secrets if s)

    def _secrets(self) -> list[str]:
        return [*self.config.secrets(), *self.tokens.secrets(), *self.app_token.secrets(), *self._learnt_secrets]

    def _connection_error(self, call: ApiCall, exc: Exception, never_sent: bool) -> HubSpotError:
        detail = redact(f"{type(exc).__name__}: {exc}", self._secrets())
        if not call.idempotent and not never_sent:
            detail += " (not retried: HubSpot may have applied the request; check before sending it again)"
        return HubSpotError(None, detail, "CONNECTION_ERROR", method=call.method, path=call.shown_path)

    def _observe(self, call: ApiCall, status: int | None, started: float, retried: bool,
                 correlation_id: str | None) -> None:
        if self.observer is None:
            return
        if call.auth in (Auth.DEVELOPER, Auth.APP) or call.base_url:
            portal = "app"
        else:
            portal = "default" if self.config.portal_id is None else str(self.config.portal_id)
        try:
            self.observer(CallObservation(operation_of(call.method, call.shown_path), portal, status,
                                          time.monotonic() - started, retried, correlation_id))
        except Exception:  # noqa: BLE001 - watching must never break a call
            log.exception("the HubSpot call observer failed")

    def _record(self, call: ApiCall, status: int | None) -> None:
        with self._count_lock:
            self.sent.append((call.method, call.shown_path, status))


def _correlation_id(response: requests.Response) -> str | None:
    """HubSpot's id for this answer: its header, else the error body's ``correlationId``."""
    header = response.headers.get("X-HubSpot-Correlation-Id")
    if header:
        return header[:64]
    if response.status_code >= 400 and response.content and response.content[:1] == b"{":
        try:
            value = response.json().get("correlationId")
        except (ValueError, AttributeError):
            return None
        return value[:64] if isinstance(value, str) else None
    return None


def _body(response: requests.Response):
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
