-- AlterTable
ALTER TABLE "training_runs" ADD COLUMN     "phase" TEXT,
ADD COLUMN     "progress" DOUBLE PRECISION,
ADD COLUMN     "heartbeat_at" TIMESTAMP(3),
ADD COLUMN     "holder" TEXT,
ADD COLUMN     "trigger" TEXT,
ADD COLUMN     "requested_by" TEXT;
