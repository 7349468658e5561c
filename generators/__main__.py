from freshmock.generators.cli import main

main()
