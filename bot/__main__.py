"""`python -m bot` is `codecast`."""

from bot.cli import main

raise SystemExit(main())
