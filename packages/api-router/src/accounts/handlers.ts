import { AppError, BadInput, NotFound } from "@reco/contracts";
import { InvalidAccountInput, TooManySignInFailures, type AccountStore } from "@reco/serving";

/** The store's own errors as the api's typed ones (400, 404, 429). */
export async function accountCall<T>(work: () => Promise<T>, id?: number): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InvalidAccountInput) throw new BadInput(error.message);
    if (error instanceof TooManySignInFailures) {
      throw new AppError("TOO_MANY_REQUESTS", error.message);
    }
    // Prisma's "record to update not found"
    if (id !== undefined && (error as { code?: string }).code === "P2025") {
      throw new NotFound("account", String(id));
    }
    throw error;
  }
}

export async function signIn(
  accounts: AccountStore,
  input: { email: string; password: string },
  address: string,
) {
  const session = await accountCall(() => accounts.signIn(input.email, input.password, address));
  // One answer for an unknown email, a wrong password and a disabled account.
  if (!session) throw new AppError("UNAUTHORIZED", "email or password is wrong");
  return {
    token: session.token,
    csrfToken: session.csrfToken,
    expiresAt: session.expiresAt.toISOString(),
    role: session.principal.role,
    email: session.principal.email,
  };
}
