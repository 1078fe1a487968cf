"""``python -m zhibiao.cli``: the ``zhibiao`` command."""
from . import main

raise SystemExit(main())
