"""What the service tells its operators: Prometheus metrics (``metrics``) and log lines
(``log_format``). Below the use cases, beside ``storage`` and ``hubspot``: it imports
neither, so each of them can be observed through a hook without depending on it."""
