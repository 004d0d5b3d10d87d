from fiberdesk.cli import main

main()
