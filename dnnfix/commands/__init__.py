"""One module per `dnnfix` sub-command."""
