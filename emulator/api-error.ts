/** An error the emulator answers with its documented status and JSON code (shape chosen by the server). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
