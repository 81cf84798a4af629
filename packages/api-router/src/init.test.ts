import { AppError } from "@reco/contracts";
import type { ExperimentService } from "@reco/experiments/store";
import type { Principal } from "@reco/serving";
import { TRPCError } from "@trpc/server";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { TrpcContext, TrpcServices } from "./context.ts";
import {
  createCallerFactory,
  createTRPCRouter,
  needs,
  pmProcedure,
  viewerProcedure,
} from "./init.ts";

const viewer: Principal = { keyId: 1, prefix: "reco_v", name: "viewer", role: "viewer" };

/** Only the service under test is real to the procedure; stats and apiKeys are never called here. */
function context(
  services: Partial<TrpcServices>,
  principal: Principal | null = viewer,
): TrpcContext {
  return {
    requestId: "test",
    principal,
    invalidKey: false,
    keyStoreDown: false,
    services: {
      stats: {} as TrpcServices["stats"],
      apiKeys: {} as TrpcServices["apiKeys"],
      ...services,
    },
  };
}

const router = createTRPCRouter({
  experiments: viewerProcedure.use(needs("experiments")).query(({ ctx }) => {
    expectTypeOf(ctx.experiments).toEqualTypeOf<ExperimentService>();
    return ctx.experiments;
  }),
  models: viewerProcedure.use(needs("models")).query(({ ctx }) => ctx.models),
  monitoring: pmProcedure.use(needs("monitoring")).query(({ ctx }) => ctx.monitoring),
  rollouts: viewerProcedure.use(needs("rollouts")).query(({ ctx }) => ctx.rollouts),
});
const caller = (ctx: TrpcContext) => createCallerFactory(router)(ctx);

async function refusal(call: Promise<unknown>): Promise<TRPCError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(error)}`);
  return error;
}

describe("needs(service)", () => {
  it("hands the procedure the configured service itself, non-optional", async () => {
    const experiments = { marker: "the experiment service" } as unknown as ExperimentService;
    expect(await caller(context({ experiments })).experiments()).toBe(experiments);
  });

  it("answers 503 (UNAVAILABLE) naming the service when this server was built without it", async () => {
    const cases = [
      ["experiments", "experiments are not configured on this server"],
      ["models", "model versions are not configured on this server"],
      ["rollouts", "rollouts are not configured on this server"],
    ] as const;
    for (const [procedure, message] of cases) {
      const error = await refusal(caller(context({}))[procedure]());
      expect(error.code).toBe("SERVICE_UNAVAILABLE");
      expect(error.message).toBe(message);
      expect(error.cause).toBeInstanceOf(AppError);
      expect((error.cause as AppError).code).toBe("UNAVAILABLE");
    }
  });

  it("runs after the role check: no key is 401 and a too-low role 403, whether or not the service exists", async () => {
    expect((await refusal(caller(context({}, null)).experiments())).code).toBe("UNAUTHORIZED");
    const monitoring = {} as TrpcServices["monitoring"];
    expect((await refusal(caller(context({ monitoring })).monitoring())).code).toBe("FORBIDDEN");
    expect((await refusal(caller(context({})).monitoring())).code).toBe("FORBIDDEN");
  });
});
