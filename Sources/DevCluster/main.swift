import ArgumentParser
DevClusterCommand.main()
