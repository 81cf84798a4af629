import { z } from "zod";

export const experimentKey = z.string().min(1, "an experiment key is required").max(64);

/** Input of get, start and stop: the experiment's key. */
export const keyInput = z.object({ key: experimentKey }).strict();
export type KeyInput = z.infer<typeof keyInput>;
