-- AlterTable
ALTER TABLE "experiment_user_hour_stats" ADD COLUMN     "failures" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "latency_sum_ms" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "responses" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "experiment_user_stats" ADD COLUMN     "failures" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "latency_sum_ms" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "responses" INTEGER NOT NULL DEFAULT 0;
