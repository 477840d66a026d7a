import FP8SimCLI;

CLI.exitWithMain()
