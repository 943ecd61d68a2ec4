from minimacheck.cli import main

raise SystemExit(main())
