from modelraising.cli import main

main()
