/** Bad command-line input: the CLI prints the message and exits 1. */
export class OptionError extends Error {}

/** The run itself failed (Artillery did not finish, no request was sent): exit 1. */
export class RunError extends Error {}
