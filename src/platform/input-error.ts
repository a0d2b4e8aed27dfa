/** An input the user must fix. The message names the input(s) and says how; it never repeats a secret's value. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
    /** Overrides the `Input 'name'` lead when an error concerns more than one input. */
    lead = `Input '${input}'`,
  ) {
    super(`${lead}: ${message}`);
    this.name = 'InputError';
  }
}
