from talksearch.cli import main

main()
