from smtui.cli import main

main()
