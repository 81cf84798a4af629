/** The monitoring router on inserted MetricAggregate rows; run on PGlite and on PostgreSQL. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  failure,
  startTestApi,
  type DatabaseKind,
  type TestApi,
} from "./models-monitoring-fixture.ts";

const at = (hhmm: string) => new Date(`2026-03-01T${hhmm}:00.000Z`);
const base = {
  clicks: 0,
  errors: 0,
  fallbacks: 0,
  latencyP50Ms: null,
  latencyP95Ms: null,
  latencyP99Ms: null,
  latencySumMs: 0,
};

export function runMonitoringSuite(kind: DatabaseKind): void {
  describe(`monitoring router (${kind})`, () => {
    let api: TestApi;
    beforeAll(async () => {
      api = await startTestApi(kind);
    }, 60_000);
    afterAll(async () => api?.close());

    it("needs a dashboard key", async () => {
      expect((await failure(api.client().monitoring.series.query())).data?.code).toBe(
        "UNAUTHORIZED",
      );
      expect((await failure(api.client("client").monitoring.series.query())).data?.code).toBe(
        "FORBIDDEN",
      );
    });

    it("answers empty series (zero counts, no rates) while no aggregate was written", async () => {
      const window = await api.client("viewer").monitoring.series.query({ minutes: 5 });
      expect(window.byModelVersion).toEqual([]);
      expect(window.byVariant).toEqual([]);
      expect(window.overall).toHaveLength(5);
      expect(window.overall.every((p) => p.impressions === 0 && p.ctr === null)).toBe(true);
      expect(window.totals).toMatchObject({ impressions: 0, ctr: null, latencyP99Ms: null });
    });

    it("rolls rows up per minute, per model version and per experiment variant", async () => {
      await api.db.prisma.metricAggregate.createMany({
        data: [
          {
            ...base,
            minute: at("12:30"),
            versionLabel: "ials@v1",
            impressions: 100,
            clicks: 10,
            errors: 1,
            fallbacks: 2,
            latencyP50Ms: 10,
            latencyP95Ms: 20,
            latencyP99Ms: 40,
            latencySumMs: 1200,
          },
          {
            ...base,
            minute: at("12:30"),
            versionLabel: "ials@v1",
            experimentKey: "exp1",
            variant: "control",
            impressions: 300,
            clicks: 15,
            latencyP50Ms: 20,
            latencyP95Ms: 30,
            latencyP99Ms: 60,
            latencySumMs: 6000,
          },
          {
            ...base,
            minute: at("12:28"),
            versionLabel: "knn@v1",
            experimentKey: "exp1",
            variant: "treatment",
            impressions: 50,
            clicks: 5,
            errors: 5,
            latencySumMs: 500,
          },
          // outside the window 12:26–12:30: before it and after it
          { ...base, minute: at("12:25"), versionLabel: "ials@v1", impressions: 999 },
          { ...base, minute: at("12:31"), versionLabel: "ials@v1", impressions: 999 },
        ],
      });
      const window = await api
        .client("viewer")
        .monitoring.series.query({ minutes: 5, until: "2026-03-01T12:30:59.000Z" });
      expect(window.from).toBe(at("12:26").toISOString());
      expect(window.to).toBe(at("12:31").toISOString());
      expect(window.overall.map((p) => p.minute)).toEqual(
        ["12:26", "12:27", "12:28", "12:29", "12:30"].map((m) => at(m).toISOString()),
      );

      expect(window.byModelVersion.map((s) => s.versionLabel)).toEqual(["ials@v1", "knn@v1"]);
      const ials = window.byModelVersion[0]!;
      const minute = ials.points[4]!;
      expect(minute).toMatchObject({ impressions: 400, clicks: 25, errors: 1, fallbacks: 2 });
      expect(minute.ctr).toBeCloseTo(25 / 400, 12);
      expect(minute.latencyMeanMs).toBeCloseTo((1200 + 6000) / 400, 12);
      // impression-weighted merge of the two rows' percentiles
      expect(minute.latencyP50Ms).toBeCloseTo((10 * 100 + 20 * 300) / 400, 12);
      expect(minute.latencyP99Ms).toBeCloseTo((40 * 100 + 60 * 300) / 400, 12);
      expect(ials.points.slice(0, 4).every((p) => p.impressions === 0)).toBe(true);
      expect(ials.totals.impressions).toBe(400);

      const knn = window.byModelVersion[1]!;
      expect(knn.points[2]).toMatchObject({ impressions: 50, errors: 5, latencyP99Ms: null });
      expect(knn.totals.errorRate).toBeCloseTo(5 / 50, 12);

      expect(window.byVariant.map((s) => `${s.experimentKey}/${s.variant}`)).toEqual([
        "exp1/control",
        "exp1/treatment",
      ]);
      expect(window.byVariant[0]!.totals).toMatchObject({ impressions: 300, clicks: 15 });

      expect(window.totals).toMatchObject({
        impressions: 450,
        clicks: 30,
        errors: 6,
        fallbacks: 2,
      });
      expect(window.totals.ctr).toBeCloseTo(30 / 450, 12);
      expect(window.totals.worstMinuteP99Ms).toBe(60);
      expect(window.overall[2]!.impressions).toBe(50);
    });

    it("defaults to the last 60 minutes up to now", async () => {
      const tenMinutesAgo = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000);
      await api.db.prisma.metricAggregate.create({
        data: { ...base, minute: tenMinutesAgo, versionLabel: "popularity", impressions: 7 },
      });
      const window = await api.client("viewer").monitoring.series.query();
      expect(window.minutes).toBe(60);
      expect(window.overall).toHaveLength(60);
      expect(window.byModelVersion.map((s) => [s.versionLabel, s.totals.impressions])).toEqual([
        ["popularity", 7],
      ]);
    });

    it("refuses a window longer than seven days, naming the field", async () => {
      const error = await failure(
        api.client("viewer").monitoring.series.query({ minutes: 10_081 }),
      );
      expect(error.data?.code).toBe("BAD_REQUEST");
      expect(error.message).toContain("minutes");
    });
  });
}
