from inception.cli import main

main()
