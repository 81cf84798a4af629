-- CreateTable
CREATE TABLE "user_deletions" (
    "id" SERIAL NOT NULL,
    "user_id" TEXT NOT NULL,
    "requested_by" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "requested_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMP(3),
    "snapshot_files" INTEGER NOT NULL DEFAULT 0,
    "snapshot_rows" INTEGER NOT NULL DEFAULT 0,
    "cache_entries" INTEGER NOT NULL DEFAULT 0,
    "experiment_stat_rows" INTEGER NOT NULL DEFAULT 0,
    "user_rows" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "user_deletions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "user_deletions_user_id_key" ON "user_deletions"("user_id");

-- CreateIndex
CREATE INDEX "user_deletions_status_idx" ON "user_deletions"("status");
