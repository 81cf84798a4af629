import { NotFound } from "@reco/contracts";
import type { PrismaClient } from "@reco/db";
import { assignVariant, type Assignment } from "../assignment.ts";
import type { ExperimentDefinition } from "../definition.ts";
import { unlessDatabaseLost } from "./database-loss.ts";
import { rowToDefinition, withVariants } from "./rows.ts";

/** A model version as the serving path loads it. */
export interface ServedModelRef {
  name: string;
  version: string;
  artifactPath: string;
}

/** What a variant serves: a registered model version, or a strategy ("default", "popularity"). */
export interface Serves {
  modelVersionId?: number;
  modelVersion?: ServedModelRef;
  strategy?: string;
}

export interface ServedAssignment {
  experimentKey: string;
  variant: string;
  serves: Serves;
}

interface RunningExperiment {
  def: ExperimentDefinition;
  serves: Map<string, Serves>;
}

export interface ExperimentAssignerOptions {
  /** how often running experiments are reloaded (default 5 s) */
  refreshMs?: number;
  /** refresh failures: the last loaded experiments keep being served */
  onError?: (error: Error) => void;
}

/**
 * Running experiments held in memory for the serving path, reloaded every few seconds. Assignment
 * itself is a pure hash of seed and user, so every process answers the same for the same
 * definition; a process may lag a stop or start by at most one refresh.
 */
export class ExperimentAssigner {
  private running: RunningExperiment[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly refreshMs: number;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: ExperimentAssignerOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? 5_000;
  }

  /** Loads once, then keeps refreshing in the background until `close()`. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((error: Error) => this.options.onError?.(error));
    }, this.refreshMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async refresh(): Promise<void> {
    const rows = await this.prisma.experiment.findMany({
      where: { status: "running" },
      include: {
        ...withVariants,
        variants: { ...withVariants.variants, include: { modelVersion: true } },
      },
      // the earliest started experiment decides when several would serve the same user
      orderBy: [{ startedAt: "asc" }, { id: "asc" }],
    });
    this.running = rows.map((row) => ({
      def: rowToDefinition(row),
      serves: new Map(
        row.variants.map(({ modelVersion: served, ...v }) => [
          v.name,
          {
            ...(v.modelVersionId === null ? {} : { modelVersionId: v.modelVersionId }),
            ...(served
              ? {
                  modelVersion: {
                    name: served.name,
                    version: served.version,
                    artifactPath: served.artifactPath,
                  },
                }
              : {}),
            ...(v.strategy === null ? {} : { strategy: v.strategy }),
          },
        ]),
      ),
    }));
  }

  /** Keys of the experiments this process currently serves. */
  runningKeys(): string[] {
    return this.running.map((r) => r.def.key);
  }

  /**
   * The experiment variant that decides what `userId` is served: the first running experiment
   * (by start time) the user is in, or null for the default experience.
   */
  assign(userId: string): ServedAssignment | null {
    for (const { def, serves } of this.running) {
      const a = assignVariant(def, userId);
      if (a.inExperiment)
        return { experimentKey: def.key, variant: a.variant, serves: serves.get(a.variant) ?? {} };
    }
    return null;
  }

  /**
   * One experiment's assignment for a client. An experiment not (yet) in memory is read from the
   * database, so a process that has not refreshed since the start answers like one that has.
   */
  async assignment(key: string, userId: string): Promise<Assignment & { serves: Serves }> {
    const cached = this.running.find((r) => r.def.key === key);
    if (cached) {
      const a = assignVariant(cached.def, userId);
      return { ...a, serves: cached.serves.get(a.variant) ?? {} };
    }
    const row = await unlessDatabaseLost(() =>
      this.prisma.experiment.findUnique({
        where: { key },
        include: {
          ...withVariants,
          variants: { ...withVariants.variants, include: { modelVersion: true } },
        },
      }),
    );
    if (!row) throw new NotFound("experiment", key);
    const a = assignVariant(rowToDefinition(row), userId);
    const v = row.variants.find((x) => x.name === a.variant);
    return {
      ...a,
      serves: {
        ...(v?.modelVersionId == null ? {} : { modelVersionId: v.modelVersionId }),
        ...(v?.strategy == null ? {} : { strategy: v.strategy }),
      },
    };
  }
}
