import { ACCOUNT_ROLES, MIN_PASSWORD_LENGTH } from "@reco/serving";
import { z } from "zod";

const password = z.string().min(MIN_PASSWORD_LENGTH).max(1024);

export const signInInput = z
  .object({ email: z.string().trim().min(1).max(320), password: z.string().min(1).max(1024) })
  .strict();
export const createAccountInput = z
  .object({
    email: z.string().trim().email().max(320),
    name: z.string().trim().max(100).default(""),
    role: z.enum(ACCOUNT_ROLES),
    password,
  })
  .strict();
export const accountIdInput = z.object({ id: z.number().int().positive() }).strict();
export const setPasswordInput = z.object({ id: z.number().int().positive(), password }).strict();
export const setRoleInput = z
  .object({ id: z.number().int().positive(), role: z.enum(ACCOUNT_ROLES) })
  .strict();
