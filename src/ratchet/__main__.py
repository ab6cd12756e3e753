from ratchet.cli import main

raise SystemExit(main())
