-- AlterTable
ALTER TABLE "metric_aggregates" ADD COLUMN     "latency_counts" INTEGER[] DEFAULT ARRAY[]::INTEGER[];
