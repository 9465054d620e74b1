/** Bad command-line input: the CLI prints the message and exits 1. The command-line parser's own refusals are these too. */
export { UsageError as OptionError } from '../command-line';

/** The run itself failed (Artillery did not finish, no request was sent): exit 1. */
export class RunError extends Error {}
