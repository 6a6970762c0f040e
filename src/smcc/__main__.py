from smcc.cli import main

main()
