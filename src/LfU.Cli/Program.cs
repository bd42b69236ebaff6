return LfU.Cli.CliApp.Run(args);
