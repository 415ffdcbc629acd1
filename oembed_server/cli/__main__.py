"""``python -m oembed_server.cli``: the same as ``oembed-server``."""
from oembed_server.cli.commands import main

main()
