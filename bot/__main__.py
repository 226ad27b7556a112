"""`python -m bot` is `codecast`."""

from bot.app.cli import main

raise SystemExit(main())
